// Resource limits (simulator/limits.ts, docs/limits.md): each is refused with a clear error at the input's
// position, and refused cheaply. The heavy ones run through the real CLI in child processes with a heap cap
// and a deadline, so "bounded time and memory" is what is asserted, not assumed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSession } from '../../simulator/session';
import { ScenarioError } from '../../simulator/scenario/types';
import { loadScenario } from '../../simulator/scenario/loader';
import { parseWithYamlPackage } from '../../simulator/scenario/yaml-tree';
import { LIMITS, LimitError, chargePageTable, countMapPages } from '../../simulator/limits';

const H = 'platform: generic-4k\nsteps:\n';
const DOMAIN = '  - iommu_domain_alloc: { dev: dma0, type: unmanaged }\n    as: d\n';

function scenarioError(text: string, opts = {}): ScenarioError {
  try {
    loadSession(text, 'lim.iommu.yaml', opts).runAll();
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  assert.fail('no error');
}

test('RAM beyond memoryPages, or not in whole pages, is refused at the platform without building anything', () => {
  const t0 = Date.now();
  const e = scenarioError('platform:\n  memory: { base: 0, size: 1P }\n  iommus: []\n  devices: []\nsteps: []\n');
  assert.match(e.format(), /^lim\.iommu\.yaml:2:3: error: memory size 1024T is 274877906944 pages of 4K; the simulator models at most 16777216 pages \(64G with this PAGE_SIZE\) \(simulator limit memoryPages/);
  assert.ok(Date.now() - t0 < 2000, 'refused at once');
  assert.match(scenarioError('platform:\n  memory: { base: 0x123, size: 1G }\nsteps: []\n').message, /memory base 0x123 is not a multiple of PAGE_SIZE \(0x1000\)/);
  // the limit follows the page size: 256G is fine with 16K pages
  loadSession('platform:\n  memory: { base: 0, size: 256G }\n  iommus: []\n  devices: []\nkernel: { page_size: 16K }\nsteps: []\n', 'ok.iommu.yaml');
});

test('iommu_map of more pages than a step may write stops at its size argument before writing anything', () => {
  const text = H + DOMAIN + '  - iommu_map: { domain: $d, iova: 0x1000, paddr: 0x80000000, size: 1T, prot: [read] }\n';
  const s = loadSession(text, 'lim.iommu.yaml');
  s.step();
  assert.throws(() => s.step(), (e: unknown) => e instanceof ScenarioError && e.pos.line === 5 && e.pos.col === 63
    && /step 1 \(iommu_map\): iommu_map of 0x10000000000 bytes at iova 0x1000 needs more than 262144 page-table entries or device pages; one step may write or touch at most 262144 \(simulator limit pagesPerStep; see docs\/limits\.md\)/.test(e.message));
  assert.equal([...s.kernel.domains.get('d1')!.pgtable!.leaves()].length, 0, 'nothing was mapped');
});

test('a huge range that fits in block mappings is simulated, not refused: 1T as 1G blocks', () => {
  const s = loadSession(H + DOMAIN + '  - iommu_map: { domain: $d, iova: 0, paddr: 0, size: 1T, prot: [read] }\n', 'ok.iommu.yaml');
  s.runAll();
  assert.equal(s.runs[1].result, 0);
  assert.equal([...s.kernel.domains.get('d1')!.pgtable!.leaves()].length, 1024);
});

test('a device access touching more pages than a step may is refused at its size; kmalloc of 1T returns NULL', () => {
  const text = H + '  - probe: dma0\n' + DOMAIN + '  - iommu_attach_device: { domain: $d, dev: dma0 }\n'
    + '  - iommu_map: { domain: $d, iova: 0, paddr: 0, size: 1T, prot: [read, write] }\n  - dma_read: { dev: dma0, addr: 0, size: 1T }\n';
  const e = scenarioError(text);
  assert.equal(`${e.pos.line}:${e.pos.col}`, '8:37');
  assert.match(e.message, /step 4 \(dma_read\): a device read of 0x10000000000 bytes at 0x0 needs more than 262144/);
  const s = loadSession(H + '  - kmalloc: { size: 1T }\n', 'ok.iommu.yaml');
  s.runAll();
  assert.equal(s.runs[0].result, null);
});

test('mm_map and mm_unmap of a huge range are refused at their size', () => {
  const e = scenarioError('platform: arm-sva\nsteps:\n  - mm_map: { mm: job, va: 0, paddr: 0x90000000, size: 2G }\n');
  assert.match(e.format(), /^lim\.iommu\.yaml:3:50: error: step 0 \(mm_map\): mm_map of 0x80000000 bytes needs more than 262144/);
});

test('countMapPages counts what iommu_map would write, and stops counting past the cap', () => {
  const lpae = [4096, 2 ** 21, 2 ** 30];
  assert.equal(countMapPages(lpae, 0, 0, 4096, 10), 1);
  assert.equal(countMapPages(lpae, 0, 0, 2 ** 30 + 2 ** 21 + 4096, 10), 3);
  assert.equal(countMapPages(lpae, 0x1000, 0x1000, 2 ** 22, 10_000), 511 + 1 + 1);
  assert.equal(countMapPages(lpae, 0x1000, 0, 2 ** 40, 1000), 1001, 'capped');
  assert.equal(countMapPages([16384], 0, 0, 2 ** 40, 5), 6);
});

test('events past eventsPerStep are counted in one printk of the step, not kept', () => {
  const s = loadSession(H + DOMAIN + '  - iommu_map: { domain: $d, iova: 0x1000, paddr: 0x80000000, size: 512M, prot: [read] }\n', 'ev.iommu.yaml');
  s.runAll();
  const events = s.runs[1].events;
  assert.equal(events.length, LIMITS.eventsPerStep + 1);
  const last = events[events.length - 1];
  assert.ok(last.kind === 'printk' && /^iommu-lens: \d+ more events of this step were not kept \(at most 100000 per step/.test(last.text), JSON.stringify(last));
});

test('page-table memory past pageTableBytes is a LimitError naming the limit', () => {
  const s = loadSession(H + DOMAIN, 'pt.iommu.yaml');
  s.runAll();
  assert.throws(() => chargePageTable(s.kernel, LIMITS.pageTableBytes), (e: unknown) => e instanceof LimitError && e.limit === 'pageTableBytes'
    && /page tables of this machine would grow past 128M of descriptors/.test(e.message));
});

test('nesting past nestingDepth is one error at the list that goes too deep, from either YAML reader', () => {
  const deep = 'platform: generic-4k\nsteps: ' + '['.repeat(20000) + ']'.repeat(20000) + '\n';
  assert.throws(() => loadScenario(deep, 'deep.iommu.yaml'), (e: unknown) => e instanceof ScenarioError
    && e.format() === 'deep.iommu.yaml:2:71: error: maps and lists nested more than 64 levels deep (simulator limit nestingDepth; see docs/limits.md)');
  assert.throws(() => parseWithYamlPackage('a: ' + '['.repeat(65) + ']'.repeat(65) + '\n', 'y.iommu.yaml'),
    (e: unknown) => e instanceof ScenarioError && `${e.pos.line}:${e.pos.col}` === '1:67' && /nested more than 64 levels/.test(e.message));
  loadScenario('platform: generic-4k\nsteps: []\nkernel: { options: { x: ' + '['.repeat(60) + ']'.repeat(60) + ' } }\n', 'ok.iommu.yaml');
});

test('a billion-laughs file stops at aliasNodes, at the alias, in well under a second', () => {
  const bomb = 'platform: generic-4k\nx: &a [1]\n' + Array.from({ length: 30 }, (_, i) => `b${i}: &b${i} [*${i ? `b${i - 1}` : 'a'}, *${i ? `b${i - 1}` : 'a'}]`).join('\n') + '\nsteps: []\n';
  const t0 = Date.now();
  assert.throws(() => loadScenario(bomb, 'bomb.iommu.yaml'), /aliases expand to more than 100000 nodes \(simulator limit aliasNodes/);
  assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
});

test('a large file outside the fast subset is not handed to the slow YAML parser', () => {
  const big = 'platform: generic-4k\nx: [' + '1, '.repeat(60_000) + '1]\n{"a": 1}\n';
  const t0 = Date.now();
  assert.throws(() => loadScenario(big, 'big.iommu.yaml'), /^.*a file over 128 KiB is read by the fast parser only/);
  assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
});

/** Runs the CLI in a child process with a heap cap; resolves with its exit status, output and time. */
function cli(args: string[], heapMb: number, deadlineMs: number): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise(resolve => {
    const child = spawn(process.execPath, ['--import', 'tsx', `--max-old-space-size=${heapMb}`, path.resolve(__dirname, '../../simulator/cli.ts'), ...args],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.on('exit', code => { clearTimeout(timer); resolve({ code, stderr, ms: Date.now() - t0 }); });
  });
}

test('hostile scenarios end in bounded time and memory through the CLI: one line, exit 2', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-lens-limits-'));
  const files: Record<string, [string, RegExp]> = {
    'ram.iommu.yaml': ['platform:\n  memory: { base: 0, size: 1P }\nsteps: []\n', /ram\.iommu\.yaml:2:3: error: memory size 1024T .*memoryPages/],
    'map.iommu.yaml': [H + DOMAIN + '  - iommu_map: { domain: $d, iova: 0x1000, paddr: 0, size: 1T }\n', /map\.iommu\.yaml:5:54: error: .*pagesPerStep/],
    'bomb.iommu.yaml': ['platform: generic-4k\nx: &a [1]\n' + Array.from({ length: 40 }, (_, i) => `b${i}: &b${i} [*${i ? `b${i - 1}` : 'a'}, *${i ? `b${i - 1}` : 'a'}]`).join('\n') + '\nsteps: []\n',
      /bomb\.iommu\.yaml:\d+:\d+: error: aliases expand to more than 100000 nodes/],
    'steps.iommu.yaml': [H + '  - probe: dma0\n'.repeat(LIMITS.steps + 1), /steps\.iommu\.yaml:2000003:5: error: more than 2000000 steps/],
  };
  try {
    const runs = await Promise.all(Object.entries(files).map(async ([name, [text, want]]) => {
      fs.writeFileSync(path.join(dir, name), text);
      return { name, want, r: await cli(['run', path.join(dir, name)], name === 'steps.iommu.yaml' ? 768 : 256, 60_000) };
    }));
    for (const { name, want, r } of runs) {
      assert.equal(r.code, 2, `${name}: exit ${r.code} after ${r.ms} ms (killed or out of memory?): ${r.stderr.slice(0, 500)}`);
      assert.match(r.stderr, want);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${name}: ${r.stderr}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a handle count of 2^31 (the APU as_posted flaw) is a finding, not an allocation of 2^31 handles', () => {
  const t0 = Date.now();
  const s = loadSession('platform: mediatek-apu\nsteps:\n  - apu.probe: { dev: apu0, variant: as_posted, domain: attached }\n'
    + '  - apu.gem_new: { dev: apu0, size: 4K }\n    as: g\n  - apu.gem_iommu_map: { dev: apu0, handles: [$g], count: 0x80000000 }\n', 'apu.iommu.yaml',
  { checkInvariants: true });
  s.runAll();
  assert.equal(s.runs[2].result, '-ENOMEM');
  assert.deepEqual(s.runs[2].findings.map(i => s.kernel.findings[i].code), ['unbounded-user-count']);
  assert.ok(Date.now() - t0 < 2000 && process.memoryUsage().heapUsed < 1e9);
});
