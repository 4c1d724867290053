// Validation of tree values against ArgField / ArgType schemas (op arguments, model parameters) and of
// free-form values (device params, kernel options). Every error names the file position of the value.
import type { ArgField, ArgType } from './opspec';
import { ArgValue, RefExpr, ScenarioError, SourcePos } from './types';
import { BadValue, parseLiteral, parseRefExpr } from './values';
import { didYouMean, oneOf } from './suggest';
import { YEntry, YMap, YNode, YScalar, isNullScalar } from './yaml-nodes';
import { KeyPositions, LoadedRef, PosTable } from './positions';

export interface ValidateCtx {
  file: string;
  /** names bound by earlier steps with `as:` (name -> step index); null where references are not allowed */
  refs: ReadonlyMap<string, number> | null;
  /** on an unknown reference only: where a later step binds the name ("line 57"), if one does */
  laterBinding?: (name: string) => string | undefined;
  /** tables that let a million steps share their strings and parsed references */
  shared?: SharedValues;
  /** where the positions of references go (see positions.ts); without it each RefExpr gets a SourcePos */
  refPositions?: PosTable;
}

/** How an object's keys are named in messages: "unknown argument 'sze' for kmalloc". */
export interface ObjectLabels {
  kind: string;      // 'argument', 'key', 'parameter'
  owner: string;     // ' for kmalloc', ' in kernel', '' at the top level
  prefix: string;    // prefix of value labels: 'kmalloc ', 'kernel '
}

export function posAt(cx: { file: string }, line: number, col: number): SourcePos {
  return { file: cx.file, line, col };
}

export function fail(cx: { file: string }, node: { line: number; col: number }, message: string): never {
  throw new ScenarioError({ file: cx.file, line: node.line, col: node.col }, message);
}

export function failKey(cx: { file: string }, keyLine: number, keyCol: number, message: string): never {
  throw new ScenarioError({ file: cx.file, line: keyLine, col: keyCol }, message);
}

/** "unknown key 'plaform'; did you mean 'platform'?" (with the valid keys when none is close). */
export function unknownKey(cx: { file: string }, e: YEntry, known: readonly string[], owner: string): never {
  const hint = didYouMean(e.key, known);
  return failKey(cx, e.keyLine, e.keyCol, `unknown key '${e.key}'${owner}${hint || '; ' + oneOf(known)}`);
}

function shapeName(node: YNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  return isNullScalar(node) ? 'nothing' : `'${node.text}'`;
}

export function expectScalar(node: YNode, label: string, cx: { file: string }, what: string): YScalar {
  if (node.kind !== 'scalar') fail(cx, node, `${label}: expected ${what}, got ${shapeName(node)}`);
  return node;
}

export function expectMap(node: YNode, label: string, cx: { file: string }): YMap {
  if (node.kind !== 'map') fail(cx, node, `${label}: expected a mapping (key: value), got ${shapeName(node)}`);
  return node;
}

const TRUE_TEXT = new Set(['true', 'True', 'TRUE']);
const FALSE_TEXT = new Set(['false', 'False', 'FALSE']);

export function boolValue(node: YNode, label: string, cx: { file: string }): boolean {
  const s = expectScalar(node, label, cx, 'true or false');
  if (TRUE_TEXT.has(s.text)) return true;
  if (FALSE_TEXT.has(s.text)) return false;
  const hint = /^(yes|no|on|off|y|n)$/i.test(s.text) ? ' (YAML 1.2: write true or false)' : '';
  return fail(cx, s, `${label}: expected true or false, got '${s.text}'${hint}`);
}

/**
 * A `$` expression, with every name checked against the names bound so far. Parsed terms are shared
 * between expressions with the same text (they are frozen), which matters for million-step files.
 */
export function refValue(node: YScalar, cx: ValidateCtx, prefix: string, key = ''): RefExpr {
  if (!cx.refs) fail(cx, node, `${prefix}${key}: references ('${node.text}') can only be used in steps`);
  let shared = cx.shared?.refs.get(node.text);
  if (!shared) {
    const pos = posAt(cx, node.line, node.col);
    const e = parseRefExpr(node.text, pos);
    if (e instanceof BadValue) throw new ScenarioError(pos, e.message);
    shared = { text: e.text, terms: e.terms };
    if (cx.shared) {
      // Field paths repeat even when the names do not ($b17.paddr, $b18.paddr): share them.
      for (const t of e.terms) if (t.ref && t.ref.path.length) t.ref.path = cx.shared.path(t.ref.path);
      if (cx.shared.refs.wants()) {
        for (const t of e.terms) {
          Object.freeze(t.ref);
          Object.freeze(t);
        }
        Object.freeze(e.terms);
        cx.shared.refs.set(shared.text, shared);
      }
    }
  }
  for (const t of shared.terms) {
    if (t.ref && !cx.refs.has(t.ref.name)) throw new ScenarioError(posAt(cx, node.line, node.col), unknownReference(t.ref.name, cx));
  }
  if (cx.refPositions) return new LoadedRef(shared.text, shared.terms, cx.refPositions, cx.refPositions.add(node.line, node.col));
  return { kind: 'expr', text: shared.text, terms: shared.terms, pos: posAt(cx, node.line, node.col) };
}

/** What a million steps can share instead of each holding a copy. */
export class SharedValues {
  readonly strings = new ShareTable<string>();
  readonly refs = new ShareTable<{ text: string; terms: RefExpr['terms'] }>();
  private readonly paths = new Map<string, Array<string | number>>();
  private readonly enumLists = new Map<string, string[]>();

  /** One frozen array per distinct list of enum values ([read, write] in half a million iommu_map steps). */
  enumList(values: string[]): string[] {
    const key = values.join('\u0000');
    let shared = this.enumLists.get(key);
    if (!shared) {
      if (this.enumLists.size >= 10_000) return values;
      shared = Object.freeze(values) as string[];
      this.enumLists.set(key, shared);
    }
    return shared;
  }

  /** One frozen array per distinct field path (['paddr'], ['entries', 1, 'dma']). */
  path(p: Array<string | number>): Array<string | number> {
    const key = p.join('\u0000');
    let shared = this.paths.get(key);
    if (!shared) {
      if (this.paths.size >= 10_000) return p;
      shared = Object.freeze(p) as Array<string | number>;
      this.paths.set(key, shared);
    }
    return shared;
  }
}

/**
 * A cache of values shared between steps that switches itself off when it does not pay: a file whose
 * every reference is unique ("$b17.paddr", "$b18.paddr" ...) would only fill it.
 */
export class ShareTable<V> {
  private readonly map = new Map<string, V>();
  private lookups = 0;
  private hits = 0;
  private on = true;

  get(key: string): V | undefined {
    if (!this.on) return undefined;
    this.lookups++;
    const v = this.map.get(key);
    if (v !== undefined) this.hits++;
    else if (this.lookups >= 4096 && this.hits * 2 < this.lookups) {
      this.on = false;
      this.map.clear();
    }
    return v;
  }

  /** false once it switched itself off */
  get active(): boolean {
    return this.on;
  }

  wants(): boolean {
    return this.on && this.map.size < 100_000;
  }

  set(key: string, value: V): void {
    if (this.wants()) this.map.set(key, value);
  }
}

/** One copy of each repeated string (device names, sites ...) instead of one per step. */
export function intern(cx: ValidateCtx, text: string): string {
  const table = cx.shared?.strings;
  if (!table) return text;
  const known = table.get(text);
  if (known !== undefined) return known;
  table.set(text, text);
  return text;
}

function unknownReference(name: string, cx: ValidateCtx): string {
  const hint = didYouMean(name, cx.refs!.keys(), s => `'$${s}'`);
  const later = cx.laterBinding?.(name);
  const note = later === undefined ? '' : ` ('$${name}' is only set later, at ${later})`;
  if (hint || note) return `unknown reference '$${name}'${hint}${note}`;
  return `unknown reference '$${name}': no earlier step has 'as: ${name}'`;
}

function checkRange(value: number, field: ArgField, label: string, cx: ValidateCtx, node: YScalar): number {
  if (field.min !== undefined && value < field.min) fail(cx, node, `${label}: ${node.text} is out of range (min ${field.min})`);
  if (field.max !== undefined && value > field.max) fail(cx, node, `${label}: ${node.text} is out of range (max ${field.max})`);
  return value;
}

const U64_LITERAL = { suffix: true };
const INT_LITERAL = { suffix: false };
const SIGNED_INT_LITERAL = { suffix: false, negative: true };

/** A field table prepared once per schema object: Map lookups, and the required names listed. */
interface CompiledFields {
  /** key -> the field and the schema's own copy of the key (an internalized string: cheap to store under) */
  byName: Map<string, { name: string; field: ArgField }>;
  /** the same as a list, for schemas of a few fields: comparing a key with each name beats hashing it */
  list: Array<{ name: string; field: ArgField }> | null;
  required: string[];
  names: string[];
}

function findField(c: CompiledFields, key: string): { name: string; field: ArgField } | undefined {
  const list = c.list;
  if (list === null) return c.byName.get(key);
  for (let i = 0; i < list.length; i++) if (list[i].name === key) return list[i];
  return undefined;
}

const compiledCache = new WeakMap<object, CompiledFields>();

function compile(fields: Record<string, ArgField>): CompiledFields {
  let c = compiledCache.get(fields);
  if (!c) {
    const names = Object.keys(fields);
    const list = names.map(k => ({ name: k, field: fields[k] }));
    c = { byName: new Map(list.map(f => [f.name, f])), list: list.length <= 8 ? list : null, required: names.filter(k => fields[k].required), names };
    compiledCache.set(fields, c);
  }
  return c;
}

/**
 * Validate a map against named fields. `extra` handles keys outside the schema (as/site/expect in a step,
 * name/model of an IOMMU) and returns true when it took the key. Optional fields given as null are left out.
 */
export function validateObject(
  map: YMap, fields: Record<string, ArgField>, labels: ObjectLabels, cx: ValidateCtx,
  extra?: (key: string, value: YNode, keyLine: number, keyCol: number) => boolean,
  keyPos?: KeyPositions, extraKeys: readonly string[] = [],
): Record<string, ArgValue> {
  const out: Record<string, ArgValue> = {};
  const compiled = compile(fields);
  const entries = map.entries;
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k];
    const known = findField(compiled, e.key);
    if (known === undefined) {
      if (extra?.(e.key, e.value, e.keyLine, e.keyCol)) continue;
      const names = [...compiled.names, ...extraKeys];
      const hint = didYouMean(e.key, names);
      failKey(cx, e.keyLine, e.keyCol, `unknown ${labels.kind} '${e.key}'${labels.owner}${hint || '; ' + oneOf(names)}`);
    }
    const { name, field } = known;
    if (keyPos) keyPos.add(name, e.keyLine, e.keyCol);
    if (e.value.kind === 'scalar' && isNullScalar(e.value)) {
      if (field.required) fail(cx, e.value, `missing value for required ${labels.kind} '${name}'${labels.owner}`);
      continue;
    }
    out[name] = validateType(e.value, field.type, field, cx, labels.prefix, name);
  }
  for (const k of compiled.required) {
    if (!Object.prototype.hasOwnProperty.call(out, k)) fail(cx, map, `missing required ${labels.kind} '${k}'${labels.owner}`);
  }
  return out;
}

function shapeOk(node: YNode, type: ArgType): boolean {
  if (typeof type === 'string' || 'enum' in type) return node.kind === 'scalar';
  if ('list' in type) return node.kind === 'seq';
  if ('object' in type) return node.kind === 'map';
  return type.oneOf.some(t => shapeOk(node, t));
}

export function typeName(type: ArgType): string {
  if (typeof type === 'string') {
    return { u64: 'a size or address', int: 'an integer', bool: 'true or false', string: 'a string', name: 'a name', handle: 'a $reference or an id' }[type];
  }
  if ('enum' in type) return `one of: ${type.enum.join(', ')}`;
  if ('list' in type) return `a list ([...]) of ${pluralName(type.list)}`;
  if ('object' in type) return `a mapping {${Object.keys(type.object).join(', ')}}`;
  return type.oneOf.map(typeName).join(', or ');
}

function pluralName(type: ArgType): string {
  if (typeof type === 'string') {
    return { u64: 'sizes or addresses', int: 'integers', bool: 'booleans', string: 'strings', name: 'names', handle: '$references or ids' }[type];
  }
  if ('enum' in type) return `values from: ${type.enum.join(', ')}`;
  if ('list' in type) return 'lists';
  if ('object' in type) return `mappings {${Object.keys(type.object).join(', ')}}`;
  return type.oneOf.map(pluralName).join(' or ');
}

/**
 * Validate one value. The label for messages is prefix + key ("kmalloc " + "size"); it is only built on
 * error, since this runs for every argument of every step.
 */
export function validateType(node: YNode, type: ArgType, field: ArgField, cx: ValidateCtx, prefix: string, key: string): ArgValue {
  if (typeof type === 'string') {
    if (node.kind !== 'scalar') return fail(cx, node, `${prefix}${key}: expected ${typeName(type)}, got ${shapeName(node)}`);
    const text = node.text;
    switch (type) {
      case 'u64':
      case 'int': {
        if (text.charCodeAt(0) === 36) return refValue(node, cx, prefix, key);
        const v = parseLiteral(text, type === 'u64' ? U64_LITERAL : field.signed === true ? SIGNED_INT_LITERAL : INT_LITERAL);
        if (v instanceof BadValue) fail(cx, node, `${prefix}${key}: ${v.message}`);
        return field.min === undefined && field.max === undefined ? v : checkRange(v, field, prefix + key, cx, node);
      }
      case 'bool':
        return boolValue(node, prefix + key, cx);
      case 'handle':
        if (text.charCodeAt(0) === 36) return refValue(node, cx, prefix, key);
        if (text === '') fail(cx, node, `${prefix}${key}: expected a $reference or an id such as "d1", got nothing`);
        return text;
      case 'name':
        if (text.charCodeAt(0) === 36) fail(cx, node, `${prefix}${key}: expected a name, not a reference ('${text}')`);
        if (text === '') fail(cx, node, `${prefix}${key}: expected a name, got nothing`);
        return intern(cx, text);
      case 'string':
        return intern(cx, text);
    }
  }
  if ('enum' in type) {
    const at = node.kind === 'scalar' ? type.enum.indexOf(node.text) : -1;
    if (at >= 0) return type.enum[at];
    const s = expectScalar(node, prefix + key, cx, typeName(type));
    const hint = didYouMean(s.text, type.enum);
    return fail(cx, s, `${prefix}${key}: bad value '${s.text}'${hint || '; ' + oneOf(type.enum)}`);
  }
  if ('list' in type) {
    if (node.kind !== 'seq') return fail(cx, node, `${prefix}${key}: expected ${typeName(type)}; got ${shapeName(node)}`);
    if (type.max !== undefined && node.items.length > type.max) fail(cx, node, `${prefix}${key}: at most ${type.max} entries, got ${node.items.length}`);
    const out: ArgValue[] = new Array(node.items.length);
    const itemPrefix = prefix + key;
    for (let k = 0; k < node.items.length; k++) out[k] = validateType(node.items[k], type.list, field, cx, itemPrefix, `[${k}]`);
    return typeof type.list === 'object' && 'enum' in type.list && cx.shared ? cx.shared.enumList(out as string[]) : out;
  }
  if ('object' in type) {
    const label = prefix + key;
    const map = expectMap(node, label, cx);
    return validateObject(map, type.object, { kind: 'key', owner: ` in ${label}`, prefix: `${label}.` }, cx);
  }
  const fits = type.oneOf.filter(t => shapeOk(node, t));
  if (fits.length === 0) fail(cx, node, `${prefix}${key}: expected ${typeName(type)}, got ${shapeName(node)}`);
  let first: unknown;
  for (const t of fits) {
    try {
      return validateType(node, t, field, cx, prefix, key);
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}

const INT_LIKE = /^[-+]?(0[xX][0-9a-fA-F]+|[0-9]+)$/;
const SIZE_LIKE = /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([KMGTPkmgtp]|[KMGTP]iB)$/;

/**
 * A value with no schema (device params, kernel options): null, true/false, an exact integer (decimal,
 * hex or size, refused when inexact), a `$` reference where allowed, a list or map of those; any other
 * text, including decimals such as "6.12", stays a string.
 */
export function freeValue(node: YNode, label: string, cx: ValidateCtx): ArgValue {
  if (node.kind === 'seq') return node.items.map((n, k) => freeValue(n, `${label}[${k}]`, cx));
  if (node.kind === 'map') {
    const out: Record<string, ArgValue> = {};
    for (const e of node.entries) {
      if (e.key === '__proto__') failKey(cx, e.keyLine, e.keyCol, `${label}: '__proto__' cannot be used as a key`);
      out[e.key] = freeValue(e.value, `${label}.${e.key}`, cx);
    }
    return out;
  }
  const text = node.text;
  if (node.plain) {
    if (isNullScalar(node)) return null;
    if (TRUE_TEXT.has(text)) return true;
    if (FALSE_TEXT.has(text)) return false;
  }
  if (text.charCodeAt(0) === 36) return refValue(node, cx, label);
  if (INT_LIKE.test(text) || SIZE_LIKE.test(text)) {
    const v = parseLiteral(text, { suffix: true, negative: true });
    if (v instanceof BadValue) fail(cx, node, `${label}: ${v.message}`);
    return v;
  }
  return text;
}
