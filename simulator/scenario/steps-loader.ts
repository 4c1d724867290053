// `steps:` — each a one-op map `{ OP: ARGS }` plus optional `as`, `site` and `expect` (which may also sit
// inside the argument map, as in `- kmalloc: { size: 4K, as: buf }`). Ops are looked up in the op registry
// for every file, so ops that driver models register later are found.
import { OpSchema, allOpNames, getOpSchema } from './opspec';
import { ERRNO } from '../core/errno';
import { ArgValue, ExpectSpec, StepSpec } from './types';
import { ObjectLabels, SharedValues, ValidateCtx, expectScalar, intern, fail, failKey, typeName, validateObject, validateType } from './args';
import { BadValue, parseLiteral } from './values';
import { didYouMean, nearest, oneOf } from './suggest';
import { YEntry, YMap, YNode, YScalar, isNullScalar } from './yaml-nodes';
import { KeyList, KeyPositions, LoadedExpect, LoadedStep, PosTable, StepMeta, StepShape } from './positions';
import { StepTemplate, TemplateStep, makeTemplate } from './step-templates';

/** A name bound again by a later `as:` (allowed: later references see the newer value). */
export interface Rebinding {
  name: string;
  step: number;
  previousStep: number;
  line: number;
}

const META_KEYS = ['as', 'site', 'expect'] as const;
const EXPECT_KEYS = ['result', 'faults', 'exposed', 'finding'];
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** FILE.c:FUNCTION, FILE.c:LINE or FILE.c:FUNCTION:LINE (headers too: static inline helpers live there). */
const SITE = /^[A-Za-z0-9_./+-]+\.[ch]:(?:[A-Za-z_][A-Za-z0-9_]*(?::[1-9][0-9]*)?|[1-9][0-9]*)$/;
const FINDING_CODE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const FIXED_RESULTS = new Map(['ok', 'oops', 'DMA_MAPPING_ERROR'].map(r => [r, r]));

interface MetaNodes {
  as?: YEntry;
  site?: YEntry;
  expect?: YEntry;
}

/**
 * Builds StepSpecs one step at a time, so that a million-step file can be validated while it is parsed
 * (the parser hands each finished step over and its tree becomes garbage at once).
 */
export class StepsBuilder {
  readonly steps: StepSpec[] = [];
  readonly rebinds: Rebinding[] = [];
  private readonly refs = new Map<string, number>();
  private readonly cx: ValidateCtx;
  private meta: MetaNodes = {};
  private currentLine = 0;
  private readonly positions: PosTable;
  private readonly argPos: KeyPositions;
  /** op -> argument key list -> the shape the steps with them share */
  private readonly shapes = new Map<string, Map<KeyList, StepShape>>();
  private readonly hoist = (key: string, value: YNode, keyLine: number, keyCol: number): boolean => this.hoistMeta(key, value, keyLine, keyCol);

  /** `laterBinding`: on an unknown reference only, where a later step binds the name ("line 57"). */
  constructor(file: string, laterBinding?: (name: string, afterLine: number) => string | undefined) {
    this.positions = new PosTable(file);
    this.argPos = new KeyPositions(this.positions);
    this.cx = {
      file, refs: this.refs, laterBinding: laterBinding && (name => laterBinding(name, this.currentLine)),
      shared: new SharedValues(),
      // A table of their own: a step's argument-key positions must stay consecutive in this.positions.
      refPositions: new PosTable(file),
    };
  }

  /** Validate the next step and bind its `as:` name. Throws ScenarioError. */
  add(node: YNode): void {
    const index = this.steps.length;
    this.currentLine = node.line;
    this.push(this.loadStep(node, index));
  }

  private push(step: StepSpec): void {
    const index = this.steps.length;
    if (step.as !== undefined) {
      const previous = this.refs.get(step.as);
      if (previous !== undefined) this.rebinds.push({ name: step.as, step: index, previousStep: previous, line: step.pos.line });
      this.refs.set(step.as, index);
    }
    this.steps.push(step);
  }

  /** A template of the step add() just loaded from an item whose text starts on `itemLine` (null: not reusable). */
  templateOfLast(itemLine: number): StepTemplate | null {
    const step = this.steps[this.steps.length - 1];
    return step instanceof LoadedStep ? makeTemplate(step, itemLine) : null;
  }

  /**
   * The next step, made from the template of an item with the same text, now starting on `itemLine`. False
   * (nothing added) when a name it references is not bound yet: add() then reports that from the item itself.
   */
  addFromTemplate(t: StepTemplate, itemLine: number): boolean {
    const names = t.names;
    for (let k = 0; k < names.length; k++) if (!this.refs.has(names[k])) return false;
    this.push(new TemplateStep(this.steps.length, t, itemLine));
    return true;
  }

  /** The whole `steps:` value, when it was not streamed. */
  addAll(node: YNode): void {
    if (isNullScalar(node)) return;
    if (node.kind !== 'seq') {
      fail(this.cx, node, `steps: expected a list of steps (- OP: ARGS), got ${node.kind === 'map' ? 'a mapping' : `'${node.text}'`}`);
    }
    for (const item of node.items) this.add(item);
  }

  /** `as`, `site` or `expect` written inside the argument map, as in `- kmalloc: { size: 4K, as: buf }`. */
  private hoistMeta(key: string, value: YNode, keyLine: number, keyCol: number): boolean {
    if (key !== 'as' && key !== 'site' && key !== 'expect') return false;
    if (this.meta[key]) {
      failKey(this.cx, keyLine, keyCol, `'${key}' is given twice for step ${this.steps.length} (inside and outside the arguments)`);
    }
    this.meta[key] = { key, keyLine, keyCol, value };
    return true;
  }

  private loadStep(node: YNode, index: number): StepSpec {
    const cx = this.cx;
    if (node.kind !== 'map') {
      const got = node.kind === 'seq' ? 'a list' : `'${node.text}'`;
      fail(cx, node, `step ${index}: expected a mapping such as '- kmalloc: { size: 4K }', got ${got}`);
    }
    const meta: MetaNodes = this.meta = {};
    let opEntry: YEntry | undefined;
    for (const e of node.entries) {
      const key = e.key;
      if (key === 'as') meta.as = e;
      else if (key === 'site') meta.site = e;
      else if (key === 'expect') meta.expect = e;
      else if (opEntry === undefined) {
        opEntry = e;
      } else {
        // One of the two is usually a misspelt as/site/expect: blame the one that is not a known op.
        const stray = getOpSchema(opEntry.key) || !getOpSchema(e.key) ? e : opEntry;
        const metaHint = nearest(stray.key, META_KEYS);
        if (metaHint) failKey(cx, stray.keyLine, stray.keyCol, `unknown step key '${stray.key}'; did you mean '${metaHint}'?`);
        failKey(cx, e.keyLine, e.keyCol, `step ${index} has two ops, '${opEntry.key}' and '${e.key}'; give each its own '- ' entry`);
      }
    }
    if (!opEntry) fail(cx, node, `step ${index} has no op (only ${node.entries.map(e => e.key).join(', ')})`);
    const schema = getOpSchema(opEntry.key);
    if (!schema) {
      const hint = didYouMean(opEntry.key, allOpNames()) || didYouMean(opEntry.key, META_KEYS);
      failKey(cx, opEntry.keyLine, opEntry.keyCol, `unknown op '${opEntry.key}'${hint}`);
    }
    const op = schema.name;
    const positions = this.positions;
    const posIndex = positions.add(opEntry.keyLine, opEntry.keyCol);
    const argPos = this.argPos.reset();
    const value = opEntry.value;
    let args: ArgValue;
    if ('scalar' in schema.args) {
      const field = schema.args.scalar;
      if (value.kind !== 'scalar') fail(cx, value, `${op} takes ${typeName(field.type)} ('- ${op}: VALUE'), not ${value.kind === 'map' ? 'a mapping' : 'a list'}`);
      argPos.add('', value.line, value.col);
      if (isNullScalar(value)) {
        if (field.required) failKey(cx, opEntry.keyLine, opEntry.keyCol, `missing required argument for ${op} (${typeName(field.type)})`);
        args = null;
      } else {
        args = validateType(value, field.type, field, cx, op, '');
      }
    } else {
      let map: YMap;
      if (value.kind === 'map') map = value;
      else if (isNullScalar(value)) map = new YMap([], opEntry.keyLine, opEntry.keyCol);
      else fail(cx, value, `${op} takes arguments { ${Object.keys(schema.args.object).join(', ')} }, got ${value.kind === 'seq' ? 'a list' : `'${(value as YScalar).text}'`}`);
      args = validateObject(map, schema.args.object, argLabels(schema), cx, this.hoist, argPos, META_KEYS);
    }
    // The argument-key positions must follow the op's own: LoadedStep finds them there.
    if (argPos.first !== -1 && argPos.first !== posIndex + 1) throw new Error('steps-loader: argument positions are not consecutive');
    let stepMeta: StepMeta | undefined;
    if (meta.as || meta.site || meta.expect) {
      stepMeta = {
        as: meta.as ? asName(meta.as, cx) : undefined,
        site: meta.site ? siteText(meta.site, cx) : undefined,
        expect: meta.expect ? loadExpect(meta.expect, cx, positions) : undefined,
      };
    }
    return new LoadedStep(index, this.shape(op, argPos.list), args, posIndex, stepMeta);
  }

  private shape(op: string, keys: KeyList): StepShape {
    let byKeys = this.shapes.get(op);
    if (!byKeys) this.shapes.set(op, byKeys = new Map());
    let shape = byKeys.get(keys);
    if (!shape) byKeys.set(keys, shape = new StepShape(op, keys.keys, this.positions));
    return shape;
  }
}

const labelCache = new WeakMap<OpSchema, ObjectLabels>();

function argLabels(schema: OpSchema): ObjectLabels {
  let l = labelCache.get(schema);
  if (!l) {
    l = { kind: 'argument', owner: ` for ${schema.name}`, prefix: `${schema.name} ` };
    labelCache.set(schema, l);
  }
  return l;
}

function asName(e: YEntry, cx: ValidateCtx): string {
  const s = expectScalar(e.value, 'as', cx, 'a name');
  if (!IDENTIFIER.test(s.text)) {
    fail(cx, s, `as: '${s.text}' is not a valid name (letters, digits and _, not starting with a digit)`);
  }
  return s.text;
}

function siteText(e: YEntry, cx: ValidateCtx): string {
  const s = expectScalar(e.value, 'site', cx, '"FILE.c:FUNCTION"');
  if (!SITE.test(s.text)) {
    fail(cx, s, `bad site '${s.text}': expected "FILE.c:FUNCTION", "FILE.c:LINE" or "FILE.c:FUNCTION:LINE"`);
  }
  return intern(cx, s.text);
}

function loadExpect(e: YEntry, cx: ValidateCtx, positions: PosTable): ExpectSpec {
  const out = new LoadedExpect(positions, positions.add(e.keyLine, e.keyCol));
  if (e.value.kind !== 'map') fail(cx, e.value, `expect: expected a mapping such as { result: ok }, got ${e.value.kind === 'seq' ? 'a list' : `'${e.value.text}'`}`);
  for (const k of e.value.entries) {
    const v = k.value;
    if (k.key === 'result') out.result = expectResult(v, cx);
    else if (k.key === 'faults') out.faults = expectCount(v, 'expect faults', cx);
    else if (k.key === 'exposed') out.exposed = expectSize(v, 'expect exposed', cx);
    else if (k.key === 'finding') out.finding = expectFinding(v, cx);
    else failKey(cx, k.keyLine, k.keyCol, `unknown key '${k.key}' in expect${didYouMean(k.key, EXPECT_KEYS) || '; ' + oneOf(EXPECT_KEYS)}`);
    out.addKey(k.key, k.keyLine, k.keyCol);
  }
  return out;
}

function expectResult(v: YNode, cx: ValidateCtx): number | string | null {
  const s = expectScalar(v, 'expect result', cx, 'a value, ok, oops, null or an errno such as -EINVAL');
  if (isNullScalar(s)) return null;
  const text = s.text;
  const fixed = FIXED_RESULTS.get(text);
  if (fixed !== undefined) return fixed;
  if (text.startsWith('-E') || /^E[A-Z0-9]+$/.test(text)) {
    const name = text.startsWith('-') ? text.slice(1) : text;
    if (Object.prototype.hasOwnProperty.call(ERRNO, name)) {
      if (!text.startsWith('-')) fail(cx, s, `expect result: write the errno as the kernel returns it: '-${name}'`);
      return intern(cx, text);
    }
    const known = Object.keys(ERRNO).map(k => `-${k}`);
    fail(cx, s, `expect result: unknown errno '${text}'${didYouMean(text.startsWith('-') ? text : `-${text}`, known) || '; ' + oneOf(known, 20)}`);
  }
  if (text.charCodeAt(0) === 36) fail(cx, s, `expect result: references ('${text}') are not supported here`);
  const n = parseLiteral(text, { suffix: true, negative: true });
  if (n instanceof BadValue) {
    const hint = didYouMean(text, [...FIXED_RESULTS.keys(), 'null']);
    if (hint) fail(cx, s, `expect result: bad value '${text}'${hint}`);
    if (/^[-+]?[0-9.]/.test(text)) fail(cx, s, `expect result: ${n.message}`);
    fail(cx, s, `expect result: expected a number, ok, oops, null, DMA_MAPPING_ERROR or an errno such as -EINVAL, got '${text}'`);
  }
  return n;
}

function expectCount(v: YNode, label: string, cx: ValidateCtx): number {
  const s = expectScalar(v, label, cx, 'a count');
  const n = parseLiteral(s.text, { suffix: false });
  if (n instanceof BadValue) fail(cx, s, `${label}: ${n.message}`);
  return n;
}

function expectSize(v: YNode, label: string, cx: ValidateCtx): number {
  const s = expectScalar(v, label, cx, 'a size');
  const n = parseLiteral(s.text, { suffix: true });
  if (n instanceof BadValue) fail(cx, s, `${label}: ${n.message}`);
  return n;
}

function expectFinding(v: YNode, cx: ValidateCtx): string | string[] {
  const code = (n: YNode): string => {
    const s = expectScalar(n, 'expect finding', cx, 'a finding code such as exposure');
    if (!FINDING_CODE.test(s.text)) {
      fail(cx, s, `expect finding: bad code '${s.text}': codes are lower-case words joined by '-', such as 'unaligned-map'`);
    }
    return intern(cx, s.text);
  };
  if (v.kind === 'seq') return v.items.map(code);
  return code(v);
}

