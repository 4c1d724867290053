// Checks on domains and devices: a domain used for mapping that nothing allocates or attaches, the DMA
// API used on a device that was moved to a driver-owned domain, and dma_get_sgtable() tables handed to
// another device.
import { DMA_API_MAPPERS, DOMAIN_ATTACHERS, DOMAIN_GETTERS, DOMAIN_USERS } from './apis';
import { bareType, type CheckContext, type FunctionScope } from './context';
import type { CallRec } from './syntax';
import { lastMember, normalizeExpr, rootIdentifier } from './text';
import type { SourceFinding } from './types';

const CALLEE = /^\(?\s*([A-Za-z_]\w*)\s*\(/;
const NULLISH = /^(?:NULL|0|\(\s*void\s*\*\s*\)\s*0)$/;

/** What a local variable was last given: its initializer or the first plain assignment. */
function sourceOf(scope: FunctionScope, name: string): string | null {
  const v = scope.vars.get(name);
  if (v?.declarator.init) return v.declarator.init.text;
  return scope.assigns.find(a => a.op === '=' && normalizeExpr(a.left.text) === name)?.right.text ?? null;
}

/**
 * A name for the storage a domain pointer lives in, comparable across functions: `member:domain` for any
 * `x->domain`, `global:name`, `allocated` for a local set from an allocator here, null when unknown (a
 * parameter).
 */
function domainKey(ctx: CheckContext, scope: FunctionScope, text: string, depth = 0): string | null {
  const n = normalizeExpr(text);
  if (!/^[A-Za-z_]\w*$/.test(n)) return /->|\./.test(n) ? `member:${lastMember(n)}` : null;
  const local = scope.vars.get(n);
  if (!local) return ctx.globals.has(n) ? `global:${n}` : null;
  if (local.decl.decl === 'param' || depth > 2) return null;
  const src = sourceOf(scope, n);
  if (!src) return null;
  const callee = CALLEE.exec(src)?.[1];
  if (callee) return DOMAIN_GETTERS.has(callee) ? 'allocated' : null;
  return domainKey(ctx, scope, src, depth + 1);
}

export function checkDomainNeverAllocated(ctx: CheckContext): SourceFinding[] {
  const provided = new Set<string>();
  const lvalueKey = (scope: FunctionScope | null, lvalue: string): string | null => {
    const n = normalizeExpr(lvalue);
    if (/->|\./.test(n)) return `member:${lastMember(n)}`;
    return scope?.vars.has(n) ? null : `global:${n}`;
  };
  for (let scopeIndex = 0; scopeIndex < ctx.scopes.length; scopeIndex++) {
    const scope = ctx.scopes[scopeIndex];
    for (let aIndex = 0; aIndex < scope.assigns.length; aIndex++) {
      const a = scope.assigns[aIndex];
      if (a.op !== '=' || NULLISH.test(a.right.text.trim())) continue;
      const k = lvalueKey(scope, a.left.text);
      if (k) provided.add(k);
    }
    for (let cIndex = 0; cIndex < scope.calls.length; cIndex++) {
      const c = scope.calls[cIndex];
      if (!DOMAIN_ATTACHERS.has(c.name) || !c.args[0]) continue;
      const k = domainKey(ctx, scope, c.args[0].text);
      if (k) provided.add(k);
    }
  }
  for (let dIndex = 0; dIndex < ctx.fileDecls.length; dIndex++) {
    const d = ctx.fileDecls[dIndex];
    for (const x of d.declarators) if (x.init && !NULLISH.test(x.init.text)) provided.add(`global:${x.name}`);
  }
  const out: SourceFinding[] = [];
  for (let scopeIndex = 0; scopeIndex < ctx.scopes.length; scopeIndex++) {
    const scope = ctx.scopes[scopeIndex];
    for (let cIndex = 0; cIndex < scope.calls.length; cIndex++) {
      const c = scope.calls[cIndex];
      if (!DOMAIN_USERS.has(c.name) || !c.args[0]) continue;
      const k = domainKey(ctx, scope, c.args[0].text);
      if (!k || k === 'allocated' || provided.has(k)) continue;
      out.push(ctx.finding('domain-never-allocated', c.args[0],
        `${c.name}() uses the domain '${normalizeExpr(c.args[0].text)}', which nothing in this file allocates or attaches: `
        + 'it is NULL, so this path is dead code',
        scope, { lowConfidence: c.inError }));
    }
  }
  return out;
}

/** A name for a device expression comparable across functions: the root variable replaced by its type. */
function deviceKey(ctx: CheckContext, scope: FunctionScope, text: string, depth = 0): string {
  const n = normalizeExpr(text);
  const root = rootIdentifier(n);
  if (!root) return n;
  const v = ctx.variable(scope, root);
  if (!v) return n;
  if (root === n && v.decl.decl !== 'param' && depth < 2) {
    const src = sourceOf(scope, root);
    if (src && !CALLEE.test(src)) return deviceKey(ctx, scope, src, depth + 1);
  }
  return bareType(v.typeText) + n.slice(root.length);
}

export function checkOwnDomainWithDmaApi(ctx: CheckContext): SourceFinding[] {
  const attached = new Map<string, CallRec>();
  for (let scopeIndex = 0; scopeIndex < ctx.scopes.length; scopeIndex++) {
    const scope = ctx.scopes[scopeIndex];
    for (let cIndex = 0; cIndex < scope.calls.length; cIndex++) {
      const c = scope.calls[cIndex];
      if (c.name === 'iommu_attach_device' && c.args[1]) attached.set(deviceKey(ctx, scope, c.args[1].text), c);
    }
  }
  if (!attached.size) return [];
  const out: SourceFinding[] = [];
  for (let scopeIndex = 0; scopeIndex < ctx.scopes.length; scopeIndex++) {
    const scope = ctx.scopes[scopeIndex];
    for (let cIndex = 0; cIndex < scope.calls.length; cIndex++) {
      const c = scope.calls[cIndex];
      if (!DMA_API_MAPPERS.has(c.name) || !c.args[0]) continue;
      const attach = attached.get(deviceKey(ctx, scope, c.args[0].text));
      if (!attach) continue;
      out.push(ctx.finding('own-domain-with-dma-api', c.nameSpan,
        `${c.name}() on '${normalizeExpr(c.args[0].text)}', which iommu_attach_device() at line ${ctx.line(attach.start)} `
        + 'moved to a driver-owned domain: the DMA API maps into the default DMA domain the device no longer uses',
        scope, { lowConfidence: c.inError, related: [{ span: attach, message: 'attached to its own domain here' }] }));
    }
  }
  return out;
}

const SG_CONSUMERS: Record<string, { sgArg: number; devArg: number | null }> = {
  dma_map_sgtable: { sgArg: 1, devArg: 0 },
  dma_map_sg: { sgArg: 1, devArg: 0 },
  dma_map_sg_attrs: { sgArg: 1, devArg: 0 },
  iommu_map_sgtable: { sgArg: 2, devArg: null },
  iommu_map_sg: { sgArg: 2, devArg: null },
};

export function checkGetSgtableSharing(ctx: CheckContext): SourceFinding[] {
  const out: SourceFinding[] = [];
  for (let scopeIndex = 0; scopeIndex < ctx.scopes.length; scopeIndex++) {
    const scope = ctx.scopes[scopeIndex];
    for (let gIndex = 0; gIndex < scope.calls.length; gIndex++) {
      const g = scope.calls[gIndex];
      if (!/^dma_get_sgtable(?:_attrs)?$/.test(g.name) || g.args.length < 2) continue;
      const sgt = normalizeExpr(g.args[1].text);
      const dev = deviceKey(ctx, scope, g.args[0].text);
      const mentions = (text: string) => new RegExp(`(^|[^\\w>.])${sgt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(normalizeExpr(text));
      let why: string | null = null;
      for (let cIndex = 0; cIndex < scope.calls.length; cIndex++) {
        const c = scope.calls[cIndex];
        const use = SG_CONSUMERS[c.name];
        if (c.start < g.end || !use || !c.args[use.sgArg] || !mentions(c.args[use.sgArg].text)) continue;
        if (use.devArg === null) why = `maps it into another IOMMU domain with ${c.name}() at line ${ctx.line(c.start)}`;
        else if (c.args[use.devArg] && deviceKey(ctx, scope, c.args[use.devArg].text) !== dev) {
          why = `maps it for '${normalizeExpr(c.args[use.devArg].text)}' with ${c.name}() at line ${ctx.line(c.start)}`;
        }
        if (why) break;
      }
      if (!why && (/map_dma_buf|export|_attach/.test(scope.name) || scope.returns.some(r => normalizeExpr(r.value) === sgt))) {
        why = `hands it out from ${scope.name}() for another device to import`;
      }
      if (!why) continue;
      out.push(ctx.finding('dma-get-sgtable-sharing', g.nameSpan,
        `${g.name}() rebuilds the table of a coherent buffer of '${normalizeExpr(g.args[0].text)}' and this code ${why}; `
        + 'that only holds while both devices see the buffer alike (the series for IOMMU pages larger than PAGE_SIZE refused it with -ENXIO)',
        scope, { lowConfidence: g.inError }));
    }
  }
  return out;
}
