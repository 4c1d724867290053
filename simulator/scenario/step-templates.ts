// Generated scenarios repeat themselves: a million-step file holds a few dozen distinct step texts, each
// written thousands of times on different lines. Parsing and validating a step is a function of its text
// (given the list's indentation) and of which `as:` names are bound so far, so a step whose exact text was
// loaded before is made again from what that gave: a TemplateStep is the template and the line, nothing
// more (48 bytes, where a parsed step with its arguments and references keeps about 200). Its positions
// are the template's moved to that line; its arguments are the template's own (shared) when they hold no
// reference, else made when asked for, each reference with its own position. The names it references are
// checked again; anything else that could differ sends the item through the parser and the checks.
import type { ArgValue, ExpectSpec, RefExpr, SourcePos, StepSpec } from './types';
import { LoadedRef, LoadedStep, StepMeta, StepShape } from './positions';
import { ShareTable } from './args';

interface TemplateRef {
  /** the argument holding it ('' for a bare reference as the whole argument) */
  key: string;
  text: string;
  terms: RefExpr['terms'];
  /** line offset from the item's first line, and column */
  line: number;
  col: number;
}

export interface StepTemplate {
  readonly shape: StepShape;
  readonly meta: StepMeta | undefined;
  /** the arguments: shared by every step made from the template when `refs` is empty, else copied */
  readonly args: ArgValue;
  /** line offsets (from the item's first line) and columns of the op key, then of each argument key */
  readonly lines: Int32Array;
  readonly cols: Int32Array;
  readonly refs: readonly TemplateRef[];
  /** every `$name` the arguments use: each must be bound when the template is used again */
  readonly names: readonly string[];
}

/** A template of a step just loaded from an item that starts on `itemLine`; null when it cannot be reused. */
export function makeTemplate(step: LoadedStep, itemLine: number): StepTemplate | null {
  if (step.expect !== undefined) return null;            // expect keys keep positions of their own: rare, not worth it
  const keys = step.shape.argKeys;
  const lines = new Int32Array(keys.length + 1);
  const cols = new Int32Array(keys.length + 1);
  const pos = step.pos;
  lines[0] = pos.line - itemLine;
  cols[0] = pos.col;
  if (keys.length) {
    const argPos = step.argPos;
    for (let k = 0; k < keys.length; k++) {
      lines[k + 1] = argPos[keys[k]].line - itemLine;
      cols[k + 1] = argPos[keys[k]].col;
    }
  }
  const refs: TemplateRef[] = [];
  const args = step.args;
  const addRef = (key: string, r: LoadedRef) => {
    const p = r.pos;
    refs.push({ key, text: r.text, terms: r.terms, line: p.line - itemLine, col: p.col });
  };
  if (args instanceof LoadedRef) {
    addRef('', args);
  } else if (args !== null && typeof args === 'object' && !Array.isArray(args)) {
    for (const key in args) {
      const v = (args as Record<string, ArgValue>)[key];
      if (v instanceof LoadedRef) addRef(key, v);
      else if (holdsRef(v)) return null;                  // references inside lists or maps (sg entries): not reused
    }
  } else if (holdsRef(args)) {
    return null;
  }
  const names: string[] = [];
  for (const r of refs) for (const t of r.terms) if (t.ref && !names.includes(t.ref.name)) names.push(t.ref.name);
  return { shape: step.shape, meta: step.meta, args, lines, cols, refs, names };
}

function holdsRef(v: ArgValue): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (v instanceof LoadedRef || (v as RefExpr).kind === 'expr') return true;
  if (Array.isArray(v)) return v.some(holdsRef);
  for (const key in v) if (holdsRef((v as Record<string, ArgValue>)[key])) return true;
  return false;
}

/**
 * The arguments of a step made from the template on `itemLine`: the template's own when they hold no reference,
 * else a copy (same keys, same order) with the reference, at its position on that line, where the template has one.
 */
function templateArgs(t: StepTemplate, itemLine: number): ArgValue {
  const refs = t.refs;
  if (refs.length === 0) return t.args;
  const file = t.shape.table.file;
  const placed = (r: TemplateRef): RefExpr => ({ kind: 'expr', text: r.text, terms: r.terms, pos: { file, line: itemLine + r.line, col: r.col } });
  if (t.args instanceof LoadedRef) return placed(refs[0]);
  const model = t.args as Record<string, ArgValue>;
  const out: Record<string, ArgValue> = {};
  for (const key in model) out[key] = model[key];
  for (let k = 0; k < refs.length; k++) out[refs[k].key] = placed(refs[k]);
  return out;
}

/** A step made from a template: the same StepSpec as the parsed one it repeats, on its own line. */
export class TemplateStep implements StepSpec {
  constructor(readonly index: number, private readonly template: StepTemplate, private readonly itemLine: number) {}

  get op(): string {
    return this.template.shape.op;
  }

  /** made on each read when the step references earlier results (references carry their own positions) */
  get args(): ArgValue {
    return templateArgs(this.template, this.itemLine);
  }

  /**
   * For the runner: arguments with the same values as `args` without making them, their references at the
   * positions of the template's first step. Errors must therefore come from `args`, never from these.
   */
  get argsForValues(): ArgValue {
    return this.template.args;
  }

  get as(): string | undefined {
    return this.template.meta?.as;
  }

  get site(): string | undefined {
    return this.template.meta?.site;
  }

  get expect(): ExpectSpec | undefined {
    return undefined;
  }

  get pos(): SourcePos {
    const t = this.template;
    return { file: t.shape.table.file, line: this.itemLine + t.lines[0], col: t.cols[0] };
  }

  get argPos(): Record<string, SourcePos> {
    const t = this.template;
    const keys = t.shape.argKeys;
    const out: Record<string, SourcePos> = {};
    for (let k = 0; k < keys.length; k++) out[keys[k]] = { file: t.shape.table.file, line: this.itemLine + t.lines[k + 1], col: t.cols[k + 1] };
    return out;
  }

  toJSON(): StepSpec {
    const { index, op, args, as, site, expect, pos, argPos } = this;
    return { index, op, args, as, site, expect, pos, argPos };
  }
}

/** Templates by item text; switches itself off when texts do not repeat (see ShareTable). */
export class StepTemplates {
  private readonly table = new ShareTable<StepTemplate | null>();

  get active(): boolean {
    return this.table.active;
  }

  /** undefined: never seen; null: seen, but its step cannot be made again (it has an expect: or nested references) */
  lookup(text: string): StepTemplate | null | undefined {
    return this.table.get(text);
  }

  remember(text: string, t: StepTemplate | null): void {
    this.table.set(text, t);
  }
}
