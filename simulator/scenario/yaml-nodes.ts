// The parsed form of a scenario file before validation: maps, lists and scalars with 1-based positions.
// Scalars keep their source text (plain) or decoded text (quoted) rather than YAML's typed value, so
// the loader decides what a value means from what the user wrote: `0x4000` stays exact, `6.10` stays a
// version, and 18446744073709551615 is refused instead of silently becoming 18446744073709552000.
import { ScenarioError } from './types';
import { LIMITS, LIMITS_DOC } from '../limits';

export class YScalar {
  readonly kind = 'scalar';
  /** plain: the source text (empty for a missing value); quoted or block: the decoded string */
  constructor(readonly text: string, readonly plain: boolean, readonly line: number, readonly col: number) {}
}

export interface YEntry {
  key: string;
  keyLine: number;
  keyCol: number;
  value: YNode;
}

export class YMap {
  readonly kind = 'map';
  constructor(readonly entries: YEntry[], readonly line: number, readonly col: number) {}
}

export class YSeq {
  readonly kind = 'seq';
  constructor(readonly items: YNode[], readonly line: number, readonly col: number) {}
}

export type YNode = YScalar | YMap | YSeq;

/** Plain `null`, `~` or nothing: YAML's null (a quoted "null" is a string). */
export function isNullScalar(n: YNode): boolean {
  if (n.kind !== 'scalar' || !n.plain) return false;
  const t = n.text;
  return t === '' || t === '~' || t === 'null' || t === 'Null' || t === 'NULL';
}

/** Throws on a repeated key (YAML requires unique keys; a repeat would silently drop a value). */
export function checkDuplicateKeys(entries: YEntry[], file: string): void {
  const n = entries.length;
  if (n < 2) return;
  if (n <= 8) {
    for (let a = 1; a < n; a++) {
      for (let b = 0; b < a; b++) if (entries[a].key === entries[b].key) duplicate(entries[a], entries[b], file);
    }
    return;
  }
  const seen = new Map<string, YEntry>();
  for (const e of entries) {
    const first = seen.get(e.key);
    if (first) duplicate(e, first, file);
    seen.set(e.key, e);
  }
}

function duplicate(again: YEntry, first: YEntry, file: string): never {
  throw new ScenarioError({ file, line: again.keyLine, col: again.keyCol },
    `duplicate key '${again.key}' (first given at line ${first.keyLine}, column ${first.keyCol})`);
}

/** The nesting limit, checked by both parsers at the start of each map or list (`level` counts it). */
export function tooDeep(level: number, file: string, line: number, col: number): void {
  if (level > LIMITS.nestingDepth) throw new ScenarioError({ file, line, col }, nestingMessage());
}

export function nestingMessage(): string {
  return `maps and lists nested more than ${LIMITS.nestingDepth} levels deep (simulator limit nestingDepth; see ${LIMITS_DOC})`;
}
