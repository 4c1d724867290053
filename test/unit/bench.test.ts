// The benchmark harness's own logic (bench/): statistics, how a measurement becomes a reported line (ratio,
// target, skipped/error), the .vsix reader, and the generated inputs (the 1M-step scenario generator must
// write exactly the steps asked and a scenario that runs clean; the big C file must rename every copy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { summarize, sig } from '../../bench/lib/stats';
import { toResult, ran, skipped } from '../../bench/lib/types';
import { zipEntries } from '../../bench/lib/zip';
import { formatTable } from '../../bench/lib/table';
import type { CatalogEntry } from '../../bench/catalog';
import { writeScenario } from '../../bench/measures/scenario';
import { bigDriver } from '../../bench/measures/annotate';
import { loadScenario } from '../../simulator/scenario/loader';
import { main as cliMain } from '../../simulator/cli';

const entry: CatalogEntry = {
  name: 'x', module: 'dma', unit: 'µs', timeoutSec: 1, what: 'test', target: { max: 1, ratio: 3, text: '≤ 1 µs, ≤ 3× floor' },
};

test('summarize: median of odd and even counts, min, max, runs', () => {
  assert.deepEqual(summarize([5, 1, 3]), { median: 3, min: 1, max: 5, runs: 3 });
  assert.deepEqual(summarize([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, runs: 4 });
  assert.throws(() => summarize([]), /no samples/);
  assert.equal(sig(1234.5678), 1230);
  assert.equal(sig(1_000_000), 1_000_000);
});

test('toResult: ratio to the floor and both targets decide met', () => {
  const ok = toResult(entry, ran([0.5, 0.6, 0.4], [0.2, 0.2, 0.2], 'f'), 1);
  assert.equal(ok.value, 0.5);
  assert.equal(ok.floor, 0.2);
  assert.equal(ok.ratio, 2.5);
  assert.equal(ok.met, true);
  assert.equal(ok.min, 0.4);
  assert.equal(ok.max, 0.6);
  const tooSlowForFloor = toResult(entry, ran([0.9], [0.2], 'f'), 1);
  assert.equal(tooSlowForFloor.met, false, '0.9 is under 1 µs but 4.5× the floor');
  const tooSlow = toResult({ ...entry, target: { max: 1, ratio: null, text: '' } }, ran([1.5], null, 'f'), 1);
  assert.equal(tooSlow.met, false);
  assert.equal(tooSlow.ratio, null);
});

test('toResult: skipped gives met null and no number; an error gives met false and no number', () => {
  const s = toResult(entry, skipped('the DMA layer is not there yet'), 0);
  assert.equal(s.met, null);
  assert.equal(s.value, null);
  assert.equal(s.skipped, 'the DMA layer is not there yet');
  const e = toResult(entry, { kind: 'error', message: 'timed out' }, 0);
  assert.equal(e.met, false);
  assert.equal(e.value, null);
  const table = formatTable([s, e]);
  assert.match(table, /x: skipped: the DMA layer is not there yet/);
  assert.match(table, /x: error: timed out/);
});

/** A zip with stored (uncompressed) entries, written by hand per APPNOTE. */
function storedZip(files: Array<[string, string]>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of files) {
    const data = Buffer.from(text);
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(files.length, 8);
  eocd.writeUInt16LE(files.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

test('zipEntries: names and sizes from the central directory; a non-zip is refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-zip-'));
  try {
    const file = path.join(dir, 'a.vsix');
    fs.writeFileSync(file, storedZip([['extension/package.json', '{"name":"x"}'], ['extension/dist/extension.js', 'exports.activate=()=>{};']]));
    assert.deepEqual(zipEntries(file), [
      { name: 'extension/package.json', compressed: 12, size: 12 },
      { name: 'extension/dist/extension.js', compressed: 24, size: 24 },
    ]);
    const bad = path.join(dir, 'b.vsix');
    fs.writeFileSync(bad, 'not a zip at all, just some text that is long enough');
    assert.throws(() => zipEntries(bad), /not a zip file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('writeScenario: exactly the steps asked, and the CLI runs it clean', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scn-'));
  try {
    for (const steps of [21, 300]) {
      const file = path.join(dir, `s${steps}.iommu.yaml`);
      writeScenario(file, steps);
      const text = fs.readFileSync(file, 'utf8');
      assert.equal(loadScenario(text, file).steps.length, steps);
      let out = '', err = '';
      const code = await cliMain(['run', file], { stdout: s => { out += s; }, stderr: s => { err += s; }, readFile: p => fs.readFileSync(p, 'utf8') });
      assert.equal(code, 0, err);
      assert.doesNotMatch(out, /Kernel oops/);
      assert.match(out, /Faults \(0\)/, 'the mix maps before every access: no fault expected');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bigDriver: whole copies up to the line count, every driver identifier renamed per copy', () => {
  const src = 'static int apu_probe(struct apu_device *apu)\n{\n\treturn APU_OK;\n}\n';
  const big = bigDriver(src, 10);
  assert.equal(big.split('\n').length - 1, 12, 'three whole 4-line copies reach 10 lines');
  assert.match(big, /apu_probe_0\(struct apu_device_0 \*apu\)/);
  assert.match(big, /return APU_OK_2;/);
  assert.equal(big.match(/apu_probe_\d+\(/g)!.length, 3);
  assert.doesNotMatch(big, /apu_probe\(/);
});
