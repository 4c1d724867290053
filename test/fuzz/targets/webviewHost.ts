// Fuzz target for what the address-map webview receives from the panel: snapshot messages whose model is
// columnar typed arrays, selectDomain and walk. validateHostMessage (webview/hostMessage.ts) must accept the
// messages the host builds, and for anything else give an error naming the field; whatever it accepts, the
// page's index, level of detail and descriptions must handle without throwing and without NaN positions.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateHostMessage } from '../../../webview/hostMessage';
import { buildMapModel, emptyMapModel, type MapModel } from '../../../webview/model';
import { syntheticReport } from '../../../webview/synthetic';
import { computeScene, indexModel } from '../../../webview/scene';
import type { RangeIndex } from '../../../webview/rangeIndex';
import { fitAll, fitRange } from '../../../webview/layout';
import { describe } from '../../../webview/describe';
import type { HostToWebview } from '../../../webview/protocol';
import type { FuzzTarget } from '../child';
import { assertReadable } from '../gen/outcome';
import { smallReport } from '../../unit/map-fixtures';

const snapshot = (model: MapModel): HostToWebview => ({ type: 'snapshot', model });
const VALID: HostToWebview[] = [
  snapshot(buildMapModel(syntheticReport({ mappings: 40, seed: 7 }), 'd1')),
  snapshot(buildMapModel(syntheticReport({ mappings: 300, seed: 3 }), 'd1')),
  snapshot(buildMapModel(smallReport(), 'd1')),
  snapshot(emptyMapModel('no session')),
  { type: 'selectDomain', domainId: 'd1', focus: { iova: 0xffffc000, size: 16384 } },
  { type: 'walk', domainId: 'd1', iova: 0xffffc000, levels: [{ level: 1, index: 2047, table: 0x8000f0000, raw: '0x00000008000f4003', outcome: 'table' }] },
  { type: 'walk', domainId: 'd1', iova: 0x1000, error: 'no page table' },
];
const ODD_NUMBERS = [NaN, Infinity, -Infinity, -1, -2, 0.5, 2 ** 53, 2 ** 53 - 1, 2 ** 64, 1e308, -0, 2 ** 31, 15, 16];
const ODD_VALUES: unknown[] = [null, undefined, 0, -1, 2 ** 53, NaN, '', 'x'.repeat(70_000), true, [], {}, [1, 2], 10n,
  new Float64Array(3), new Int32Array(0), new Uint32Array(2), new Uint8Array(4), new Float32Array(2), [0.5, NaN]];

type Node = Record<string, unknown>;

/** Changes one thing at any depth: a field, an element of a typed-array column, its type or its length. */
function mutate(msg: HostToWebview, path: number[], value: unknown, num: number, how: number): unknown {
  const copy = structuredClone(msg) as unknown as Node;
  let node: Node = copy;
  for (const step of path) {
    const keys = Object.keys(node);
    if (!keys.length) break;
    const k = keys[step % keys.length];
    const next = node[k];
    if (ArrayBuffer.isView(next)) {
      const a = next as unknown as Float64Array;
      const i = a.length ? step % a.length : 0;
      switch (how % 6) {
        case 0: if (a.length) a[i] = num; break;                                         // an odd element
        case 1: if (a.length > 1) { const t = a[i]; a[i] = a[(i + 1) % a.length]; a[(i + 1) % a.length] = t; } break;   // order
        case 2: node[k] = a.subarray(0, Math.max(0, a.length - 1)); break;                 // one short
        case 3: node[k] = Array.from(a); break;                                             // a plain list
        case 4: node[k] = a instanceof Float64Array ? Int32Array.from(a) : Float64Array.from(a); break;   // another type
        default: if (a.length) a[i] = a[i] + (num % 7); break;                             // a near value
      }
      return copy;
    }
    if (next === null || typeof next !== 'object' || how % 5 === 0) {
      if (how % 4 === 1) delete node[k]; else if (how % 4 === 2) node[`${k}_extra`] = value; else node[k] = value;
      return copy;
    }
    node = next as Node;
  }
  node.type = value;
  return copy;
}

const SNAPSHOTS = VALID.filter(m => m.type === 'snapshot' && m.model.mappings.iova.length > 0);
const TABLES = ['mappings', 'buffers', 'steps'] as const;

/** One column of one table of a snapshot's model, changed as `mutate` changes a typed array. */
function mutateColumn(msg: HostToWebview, table: number, column: number, at: number, num: number, how: number): unknown {
  const name = TABLES[table % TABLES.length];
  const keys = Object.keys((msg as unknown as { model: Node }).model[name] as Node);
  return mutate(msg, [1, Object.keys((msg as unknown as { model: Node }).model).indexOf(name), keys.indexOf(keys[column % keys.length]), at], null, num, how % 6 === 3 ? 0 : how);
}

const arbitrary: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...SNAPSHOTS), fc.nat(), fc.nat(), fc.nat(), fc.constantFrom(...ODD_NUMBERS), fc.nat())
    .map(([m, t, c, at, n, how]) => mutateColumn(m, t, c, at, n, how)) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(...VALID) },
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...VALID), fc.array(fc.nat(), { maxLength: 5 }), fc.oneof(fc.constantFrom(...ODD_VALUES), fc.anything()),
    fc.constantFrom(...ODD_NUMBERS), fc.nat()).map(([m, p, v, n, how]) => mutate(m, p, v, n, how)) },
  { weight: 1, arbitrary: fc.anything({ withBigInt: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true }) },
);

const PATHS = /^(message|snapshot|selectDomain|walk)[.:[]/;
const stats = { accepted: 0, rejected: 0, snapshots: 0 };

function show(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : ArrayBuffer.isView(x)
      ? { [x.constructor.name]: Array.from(x as unknown as ArrayLike<number>) } : x), 2) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The page's binary searches need each index sorted by start, and its order a permutation of the rows. */
function assertSearchable(what: string, r: RangeIndex, rows: number): void {
  assert.equal(r.start.length, rows, `${what}: ${r.start.length} positions for ${rows} rows`);
  for (let p = 1; p < r.start.length; p++) assert.ok(r.start[p] >= r.start[p - 1], `${what} unsorted at ${p}`);
  if (r.order) assert.equal(new Set(r.order).size, rows, `${what}: order is not a permutation`);
  r.order?.forEach(i => assert.ok(i >= 0 && i < rows, `${what}: order names row ${i}`));
}

/** A description the user reads: no undefined or NaN from an index pointing outside its table. */
function assertWords(d: { title: string; rows: Array<[string, string]>; warnings: string[] }): void {
  const text = [d.title, ...d.rows.flat(), ...d.warnings].join(' | ');
  assert.ok(!/undefined|NaN/.test(text), `description shows undefined or NaN: ${text}`);
}

/** What the page does with an accepted model: index, two scenes, descriptions of what they show. */
function usePage(m: MapModel): void {
  const idx = indexModel(m);
  assertSearchable('byIova', idx.byIova, m.mappings.iova.length);
  assertSearchable('byPaddr', idx.byPaddr, m.mappings.iova.length);
  assertSearchable('buffers', idx.buffers, m.buffers.paddr.length);
  const width = 900;
  const n = m.mappings.iova.length;
  const views = [fitAll(width, idx.iovaLimits)];
  if (n) views.push(fitRange(m.mappings.iova[n >> 1], m.mappings.iova[n >> 1] + m.mappings.size[n >> 1], width, idx.iovaLimits, 1.5));
  for (const v of views) {
    const s = computeScene(m, idx, v, fitAll(width, idx.physLimits), true);
    assert.ok(s.stats.visibleMappings <= n, `${s.stats.visibleMappings} visible of ${n}`);
    for (const b of [...s.iova, ...s.phys]) {
      assert.ok(Number.isFinite(b.x0) && Number.isFinite(b.x1), `block at ${b.x0}..${b.x1}`);
      assert.ok(b.item >= 0 && b.item < n, `block item ${b.item} of ${n}`);
      assertWords(describe(m, { kind: 'mapping', band: 'iova', item: b.item }));
    }
    for (const b of s.buffers) assertWords(describe(m, { kind: 'buffer', index: b.item }));
    for (const g of s.faults) assertWords(describe(m, { kind: 'faults', first: g.first, count: g.count }));
  }
}

export const hostMessage: FuzzTarget<unknown> = {
  arbitrary,
  show,
  check(x) {
    const r = validateHostMessage(x);
    if (!('type' in r)) {
      stats.rejected++;
      assert.match(r.error, PATHS, `error does not name the field: ${r.error}`);
      assertReadable(r.error, 'undefined NaN Infinity');
      assert.ok(r.error.length < 400, `${r.error.length}-character error`);
      return;
    }
    stats.accepted++;
    if (r.type === 'snapshot') {
      stats.snapshots++;
      usePage(r.model);
    }
  },
  summary: () => `${stats.accepted} accepted (${stats.snapshots} snapshots), ${stats.rejected} rejected`,
  finish() {
    assert.ok(stats.snapshots > 0 && stats.rejected > stats.accepted, JSON.stringify(stats));
  },
};
