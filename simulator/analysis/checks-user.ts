// Allocations sized by a count that userspace controls, with no upper bound checked first.
import { ARRAY_ALLOCATORS, SIZE_ALLOCATORS, USER_COPY_IN } from './apis';
import type { CheckContext, FunctionScope } from './context';
import type { CallRec } from './syntax';
import { normalizeExpr, rootIdentifier } from './text';
import type { SourceFinding } from './types';

const USER_STRUCT_NAMES = new Set(['args', 'arg', 'uarg', 'uargs', 'req', 'ureq']);

/** Variables holding data userspace wrote: the ioctl argument, copy_from_user() targets, memdup_user(). */
function userVariables(scope: FunctionScope): Set<string> {
  const user = new Set<string>();
  const voidParams = new Set([...scope.vars.values()]
    .filter(v => v.decl.decl === 'param' && v.pointer && /^(?:const )?void$/.test(v.typeText.trim())).map(v => v.name));
  for (const v of scope.vars.values()) {
    const init = v.declarator.init?.text.trim();
    if (init && voidParams.has(init) && v.pointer) user.add(v.name);
    if (USER_STRUCT_NAMES.has(v.name) && v.pointer && /\bstruct drm_\w+/.test(v.typeText)) user.add(v.name);
    if (init && /^memdup_user\s*\(/.test(init)) user.add(v.name);
  }
  for (let aIndex = 0; aIndex < scope.assigns.length; aIndex++) {
    const a = scope.assigns[aIndex];
    const lhs = normalizeExpr(a.left.text);
    if (a.op === '=' && /^[A-Za-z_]\w*$/.test(lhs) && (voidParams.has(a.right.text.trim()) || /^memdup_user\s*\(/.test(a.right.text))) user.add(lhs);
  }
  for (let cIndex = 0; cIndex < scope.calls.length; cIndex++) {
    const c = scope.calls[cIndex];
    if (!USER_COPY_IN.has(c.name) || !c.args[0]) continue;
    const root = rootIdentifier(c.args[0].text.replace(/^\s*&/, ''));
    if (root) user.add(root);
  }
  return user;
}

/** Members of user structs in `text` (`args->count`), plus locals copied from one (`n = args->count`). */
function userCounts(scope: FunctionScope, user: Set<string>): { members: RegExp | null; aliases: Map<string, string> } {
  if (!user.size) return { members: null, aliases: new Map() };
  const names = [...user].join('|');
  const members = new RegExp(`\\b(?:${names})\\s*(?:->|\\.)\\s*[A-Za-z_]\\w*`, 'g');
  const aliases = new Map<string, string>();
  const note = (name: string, value: string) => {
    const m = value.match(members);
    if (m) aliases.set(name, normalizeExpr(m[0]));
  };
  for (const v of scope.vars.values()) if (v.declarator.init && !v.pointer) note(v.name, v.declarator.init.text);
  for (let aIndex = 0; aIndex < scope.assigns.length; aIndex++) {
    const a = scope.assigns[aIndex];
    const lhs = normalizeExpr(a.left.text);
    if (a.op === '=' && /^[A-Za-z_]\w*$/.test(lhs)) note(lhs, a.right.text);
  }
  return { members, aliases };
}

/** An if before `at` that compares `what` with <, >, <= or >= (an upper bound, as opposed to a NULL test). */
function boundChecked(scope: FunctionScope, at: number, what: string[]): boolean {
  return scope.ifs.some(i => {
    if (i.start >= at) return false;
    const cond = normalizeExpr(i.cond.text).replace(/->/g, '.');
    const mentioned = what.some(w => new RegExp(`(^|[^\\w.])${w.replace(/->/g, '.').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!\\w)`).test(cond));
    return mentioned && /[<>]|check_\w+_overflow|size_mul/.test(cond);
  });
}

export function checkUnboundedUserCount(ctx: CheckContext): SourceFinding[] {
  const out: SourceFinding[] = [];
  for (let scopeIndex = 0; scopeIndex < ctx.scopes.length; scopeIndex++) {
    const scope = ctx.scopes[scopeIndex];
    if (!scope.calls.some(c => sizingArgument(c) !== null)) continue;      // no allocation to size
    const user = userVariables(scope);
    const { members, aliases } = userCounts(scope, user);
    if (!members) continue;
    for (let cIndex = 0; cIndex < scope.calls.length; cIndex++) {
      const c = scope.calls[cIndex];
      const arg = sizingArgument(c);
      if (!arg) continue;
      const direct = [...arg.matchAll(members)].map(m => normalizeExpr(m[0]));
      const viaAlias = [...aliases.entries()].filter(([name]) => new RegExp(`\\b${name}\\b`).test(arg));
      if (!direct.length && !viaAlias.length) continue;
      if (/\b(?:min|min_t|clamp|clamp_t)\s*\(/.test(arg)) continue;
      const what = [...direct, ...viaAlias.flatMap(([name, member]) => [name, member])];
      if (boundChecked(scope, c.start, what)) continue;
      const source = direct[0] ?? viaAlias[0][1];
      out.push(ctx.finding('unbounded-user-count', c.nameSpan,
        `${c.name}() is sized by '${source}' from userspace with no upper bound checked before it: `
        + 'a caller can request an arbitrarily large kernel allocation',
        scope, { lowConfidence: c.inError }));
    }
  }
  return out;
}

function sizingArgument(c: CallRec): string | null {
  if (ARRAY_ALLOCATORS.has(c.name)) return c.args[0]?.text ?? null;
  if (SIZE_ALLOCATORS.has(c.name)) return c.args[0]?.text ?? null;
  return null;
}
