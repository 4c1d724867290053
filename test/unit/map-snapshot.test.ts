// Address map snapshots as they cross to the webview: the model is columnar typed arrays and a packed string table;
// the page checks every message on arrival (webview/hostMessage.ts) and names the first bad field; the builder
// keeps addresses exact (anything that is not an integer below 2^53, ends included, is skipped and named).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateHostMessage } from '../../webview/hostMessage';
import { buildMapModel, emptyMapModel, stringAt, type MapModel } from '../../webview/model';
import { stepFromText } from '../../webview/modelJoin';
import { syntheticReport } from '../../webview/synthetic';
import type { HostToWebview } from '../../webview/protocol';
import { smallReport } from './map-fixtures';

const model = () => buildMapModel(syntheticReport({ mappings: 300, seed: 3 }), 'd1');
const errorOf = (m: unknown): string => {
  const r = validateHostMessage(m);
  assert.ok(!('type' in r), `accepted ${JSON.stringify(m, (_k, v: unknown) => (ArrayBuffer.isView(v) ? v.constructor.name : v)).slice(0, 200)}`);
  return r.error;
};
/** A snapshot whose model was changed by `edit` (on a structured clone, as the page would receive it). */
const edited = (edit: (m: MapModel) => void): HostToWebview => {
  const m = structuredClone(model());
  edit(m);
  return { type: 'snapshot', model: m };
};

test('the model travels as typed-array columns and one string table, and arrives checked as it was sent', () => {
  const m = model();
  for (const [k, col] of Object.entries(m.mappings)) assert.ok(ArrayBuffer.isView(col), `mappings.${k} is a typed array`);
  for (const [k, col] of Object.entries(m.buffers)) assert.ok(ArrayBuffer.isView(col), `buffers.${k} is a typed array`);
  assert.equal(typeof m.strings.text, 'string');
  const received = structuredClone({ type: 'snapshot', model: m });
  const r = validateHostMessage(received);
  assert.ok('type' in r && r.type === 'snapshot');
  assert.deepEqual(r.model, m);
  assert.ok(r.model.mappings.iova instanceof Float64Array && r.model.mappings.byPaddr instanceof Int32Array);
  for (const other of [emptyMapModel('nothing'), buildMapModel(smallReport(), 'd1')]) {
    assert.ok('type' in validateHostMessage({ type: 'snapshot', model: other }), 'empty and small models pass');
  }
  // the physical order really sorts the mappings by paddr
  const { paddr, byPaddr } = m.mappings;
  for (let k = 1; k < byPaddr.length; k++) assert.ok(paddr[byPaddr[k]] >= paddr[byPaddr[k - 1]]);
  assert.equal(new Set(byPaddr).size, byPaddr.length);
});

test('a malformed snapshot is rejected with the offending column, row and value named', () => {
  const cases: Array<[HostToWebview | unknown, RegExp]> = [
    [edited(m => { m.mappings.iova[3] = NaN; }), /^snapshot\.model\.mappings\.iova\[3\]: expected an address .* got null/],
    [edited(m => { m.mappings.iova[0] = 2 ** 53; }), /^snapshot\.model\.mappings\.iova\[0\]: expected an address \(integer 0\.\.2\^53-1\), got 9007199254740992/],
    [edited(m => { m.mappings.size[5] = 0.5; }), /^snapshot\.model\.mappings\.size\[5\]: expected a positive integer, got 0\.5/],
    [edited(m => { m.mappings.paddr[2] = 2 ** 53 - 4096; }), /^snapshot\.model\.mappings\.paddr\[2\]: expected a range that ends at most at 2\^53/],
    [edited(m => { m.mappings.iova[7] = m.mappings.iova[6] - 1; }), /^snapshot\.model\.mappings\.iova\[7\]: expected at least \d+ \(sorted ascending\)/],
    [edited(m => { m.mappings.reqLen[4] = m.mappings.size[4] + 1; }), /^snapshot\.model\.mappings\.reqLen\[4\]: expected at most/],
    [edited(m => { m.mappings.prot[1] = m.strings.end.length; }), /^snapshot\.model\.mappings\.prot\[1\]: expected a string index/],
    [edited(m => { m.mappings.buffer[1] = m.buffers.paddr.length; }), /^snapshot\.model\.mappings\.buffer\[1\]: expected a buffer index/],
    [edited(m => { m.mappings.flags[9] = 16; }), /^snapshot\.model\.mappings\.flags\[9\]: expected flag bits \(0\.\.15\)/],
    [edited(m => { m.mappings.byPaddr[1] = m.mappings.byPaddr[0]; }), /^snapshot\.model\.mappings\.byPaddr\[1\]: expected a permutation/],
    [edited(m => { m.mappings.size = m.mappings.size.subarray(1); }), /^snapshot\.model\.mappings\.size: expected 300 elements, one per row of its table, got Float64Array of 299 elements/],
    [edited(m => { (m.mappings as unknown as Record<string, unknown>).iova = Array.from(m.mappings.iova); }), /^snapshot\.model\.mappings\.iova: expected a Float64Array, got \[/],
    [edited(m => { (m.mappings as unknown as Record<string, unknown>).flags = Float64Array.from(m.mappings.flags); }), /^snapshot\.model\.mappings\.flags: expected an Int32Array, got Float64Array of 300 elements/],
    [edited(m => { m.buffers.paddr[3] = -4096; }), /^snapshot\.model\.buffers\.paddr\[3\]: expected an address/],
    [edited(m => { m.steps.index[2] = m.steps.index[1] - 1; }), /^snapshot\.model\.steps\.index\[2\]: expected at least/],
    [edited(m => { m.strings.text += 'x'; }), /^snapshot\.model\.strings\.end: expected the text's length \d+ as its last element/],
    [edited(m => { (m as unknown as { version: number }).version = 1; }), /^snapshot\.model\.version: expected 2 \(this webview's model version\), got 1/],
    [edited(m => { m.faults.reverse(); m.faults.unshift({ ...m.faults[0], iova: 2 ** 40 }); }), /^snapshot\.model\.faults\[\]\.iova\[1\]: expected at least 1099511627776/],
    [{ type: 'walk', domainId: 'd1', iova: 0, levels: [], error: 'both' }, /^walk\.levels: expected no levels beside an error/],
    [{ type: 'selectDomain', domainId: 'd1', focus: { iova: -1 } }, /^selectDomain\.focus\.iova: expected an address/],
    [{ type: 'explode' }, /^message\.type: expected snapshot \| selectDomain \| walk/],
  ];
  for (const [m, want] of cases) assert.match(errorOf(m), want);
});

test('the builder keeps addresses exact: a value past 2^53 is skipped and named, never rounded', () => {
  const r = smallReport();
  r.domains[1].mappings.push({ iova: '0x20000000000000', size: 4096, paddr: '0x1000', prot: ['read'] },
    { iova: '0x1ffffffffff000', size: 8192, paddr: '0x2000', prot: ['read'] });
  const m = buildMapModel(r, 'd1');
  assert.equal(m.mappings.iova.length, 3, 'both skipped');
  assert.ok(m.problems.some(p => p === 'domain d1 mapping 4 iova: "0x20000000000000" is not an exact address'), m.problems.join('; '));
  assert.ok(m.problems.some(p => /mapping 5 size: 8192 is not a positive byte count/.test(p)), 'an end past 2^53 is named');
  assert.ok('type' in validateHostMessage({ type: 'snapshot', model: m }));
  // step numbers: the first "step N" word, as the report writes them; an inexact one is unknown
  assert.equal(stepFromText('dma_map_single step 12'), 12);
  assert.equal(stepFromText('xstep 3, step 4a, step 5'), 5);
  assert.equal(stepFromText('step 99999999999999999999'), -1);
  assert.equal(stepFromText('no steps'), -1);
  assert.equal(stringAt(m, m.mappings.prot[0]), 'read, write');
});
