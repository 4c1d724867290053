// The CLI contract: exit statuses, --json report shape, --trace tracepoint lines, errors with positions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../simulator/cli';

async function cli(args: string[], files: Record<string, string> = {}) {
  let stdout = '', stderr = '';
  const code = await main(args, {
    stdout: s => { stdout += s; }, stderr: s => { stderr += s; },
    readFile: p => { if (p in files) return files[p]; return fs.readFileSync(p, 'utf8'); },
  });
  return { code, stdout, stderr };
}

const ex = (f: string) => path.resolve(__dirname, '../../examples', f);

test('run prints aligned tables and exits 0 when expectations hold', async () => {
  const r = await cli(['run', ex('default.iommu.yaml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Groups$/m);
  assert.match(r.stdout, /^ {2}ID {2}IOMMU {2}DEVICES/m);
  assert.match(r.stdout, /Expectations: all \d+ held/);
});

test('--json follows the report contract', async () => {
  const r = await cli(['run', ex('default.iommu.yaml'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const key of ['scenario', 'kernel', 'steps', 'groups', 'domains', 'devices', 'faults', 'findings']) assert.ok(key in j, key);
  assert.deepEqual(Object.keys(j.kernel).slice(0, 3), ['page_size', 'large_iommu_pages', 'dma_strict']);
  assert.equal(j.kernel.page_size, 4096);
  const step = j.steps[0];
  assert.deepEqual(Object.keys(step).slice(0, 6), ['index', 'op', 'site', 'result', 'events', 'findings']);
  const d2 = j.domains.find((d: any) => d.id === 'd2');
  assert.equal(d2.type, 'UNMANAGED');
  assert.deepEqual(d2.mappings[0], { iova: '0x40000000', size: 4096, paddr: '0x800200000', prot: ['read', 'write'] });
  assert.equal(j.steps[5].result, '-EINVAL');
  assert.equal(j.steps[5].findings[0].code, 'unaligned-map');
  assert.equal(j.faults[0].iova, '0x40002000');
  assert.equal(j.faults[0].kind, 'translation');
  assert.deepEqual(j.groups[0], { id: 0, iommu: 'smmu0', devices: ['pl330'], default_domain: 'd1', domain: 'd2' });
  assert.equal(j.devices.find((d: any) => d.name === 'pl330').domain, 'd2');
});

test('--trace prints tracepoint lines in the kernel formats', async () => {
  const r = await cli(['run', ex('default.iommu.yaml'), '--trace']);
  assert.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^ +iommu-lens-1 +\[000\] \.{5} +0\.000001: add_device_to_group: IOMMU: groupID=0 device=pl330$/);
  assert.ok(lines.some(l => l.endsWith('map: IOMMU: iova=0x0000000040000000 - 0x0000000040200000 paddr=0x0000000800200000 size=2097152')));
  assert.ok(lines.some(l => l.endsWith('unmap: IOMMU: iova=0x0000000040001000 - 0x0000000040002000 size=4096 unmapped_size=2097152')));
  assert.ok(lines.some(l => l.endsWith('io_page_fault: IOMMU:arm-smmu-v3 pl330 iova=0x0000000040002000 flags=0x0000')));
});

test('a failed expectation prints expected vs got with the position and exits 1', async () => {
  const text = 'platform: generic-4k\nsteps:\n  - probe: dma0\n    expect: { result: -EBUSY }\n';
  const r = await cli(['run', 'x.iommu.yaml'], { 'x.iommu.yaml': text });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^x\.iommu\.yaml:3:5: expectation failed: step 0 \(probe\): expected result -EBUSY, got d1 \(DMA\)$/m);
});

test('bad input exits 2 with FILE:LINE:COL and no stack trace', async () => {
  const r = await cli(['run', 'bad.iommu.yaml'], { 'bad.iommu.yaml': 'platform: generic-4k\nsteps:\n  - iommu_mpa: { domain: d1 }\n' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^bad\.iommu\.yaml:3:5: error: unknown op 'iommu_mpa'; did you mean 'iommu_map'\?/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('a run-time reference to a failed step names the position', async () => {
  const text = 'platform: generic-4k\nsteps:\n  - kmalloc: { size: 0 }\n    as: b\n  - iommu_map: { domain: d1, iova: 0, paddr: $b.paddr, size: 4K }\n';
  const r = await cli(['run', 'r.iommu.yaml'], { 'r.iommu.yaml': text });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^r\.iommu\.yaml:5:\d+: error: .*\$b is null/);
});

test('a missing file and unknown options are usage errors (exit 2)', async () => {
  const missing = path.join(os.tmpdir(), 'no-such-file.iommu.yaml');
  assert.equal((await cli(['run', missing])).code, 2);
  assert.match((await cli(['run', missing])).stderr, /no such file/);
  assert.equal((await cli(['run', ex('default.iommu.yaml'), '--jsno'])).code, 2);
  assert.equal((await cli(['frobnicate'])).code, 2);
});

test('run --builtin default runs the embedded default', async () => {
  const r = await cli(['run', '--builtin', 'default']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /driver-owned domain on an Arm SMMUv3/);
});
