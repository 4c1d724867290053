// Graceful failure of the CLI: exit 2 with one line for bad input, 70 with one line (stack only with
// IOMMU_LENS_DEBUG=1) for an internal error, 130 and no stack on Ctrl-C, and a closed pipe is not a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../simulator/cli';
import { getOpHandler, registerOpHandler, type OpHandler } from '../../simulator/runner/ops';

const CLI = path.resolve(__dirname, '../../simulator/cli.ts');
const SCENARIO = 'platform: generic-4k\nsteps:\n  - probe: dma0\n  - kmalloc: { size: 4K }\n    as: b\n';

async function run(args: string[], files: Record<string, string>) {
  let stdout = '', stderr = '';
  const code = await main(args, { stdout: s => { stdout += s; }, stderr: s => { stderr += s; }, readFile: p => files[p] });
  return { code, stdout, stderr };
}

/** Replaces an op handler for the duration of fn (an injected simulator bug). */
async function withHandler<T>(op: string, h: OpHandler, fn: () => Promise<T>): Promise<T> {
  const original = getOpHandler(op)!;
  registerOpHandler(op, h);
  try {
    return await fn();
  } finally {
    registerOpHandler(op, original);
  }
}

test('an internal error exits 70 with one line and a pointer to IOMMU_LENS_DEBUG, never a stack', async () => {
  const before = process.env.IOMMU_LENS_DEBUG;
  delete process.env.IOMMU_LENS_DEBUG;
  try {
    const r = await withHandler('kmalloc', () => { throw new TypeError("Cannot read properties of undefined (reading 'paddr')"); },
      () => run(['run', 'x.iommu.yaml'], { 'x.iommu.yaml': SCENARIO }));
    assert.equal(r.code, 70);
    assert.equal(r.stderr, "iommu-lens: internal error: Cannot read properties of undefined (reading 'paddr'); please report it with the input file " +
      '(set IOMMU_LENS_DEBUG=1 for details)\n');
  } finally {
    if (before !== undefined) process.env.IOMMU_LENS_DEBUG = before;
  }
});

test('with IOMMU_LENS_DEBUG=1 the stack follows the line', async () => {
  const before = process.env.IOMMU_LENS_DEBUG;
  process.env.IOMMU_LENS_DEBUG = '1';
  try {
    const r = await withHandler('kmalloc', () => { throw new RangeError('boom'); }, () => run(['run', 'x.iommu.yaml'], { 'x.iommu.yaml': SCENARIO }));
    assert.equal(r.code, 70);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines[0], 'iommu-lens: internal error: boom; please report it with the input file');
    assert.match(lines[1], /^RangeError: boom$/);
    assert.ok(lines.slice(2).some(l => /at .*cli-failure\.test\.ts/.test(l)), 'the stack is printed');
  } finally {
    if (before === undefined) delete process.env.IOMMU_LENS_DEBUG; else process.env.IOMMU_LENS_DEBUG = before;
  }
});

test('a simulator invariant violated while IOMMU_LENS_INVARIANTS=1 is an internal error naming the step', async () => {
  const before = process.env.IOMMU_LENS_INVARIANTS;
  process.env.IOMMU_LENS_INVARIANTS = '1';
  try {
    const original = getOpHandler('kmalloc')!;
    const r = await withHandler('kmalloc', (ctx, a) => {
      const out = original(ctx, a);
      (ctx.k.mem.buddy.freeLists()[0] as Set<number>).add(ctx.k.mem.buddy.basePfn);   // a block both free and used
      return out;
    }, () => run(['run', 'x.iommu.yaml'], { 'x.iommu.yaml': SCENARIO }));
    assert.equal(r.code, 70);
    assert.match(r.stderr, /^iommu-lens: internal error: simulator invariant violated after step 1 \(kmalloc\): /);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  } finally {
    if (before === undefined) delete process.env.IOMMU_LENS_INVARIANTS; else process.env.IOMMU_LENS_INVARIANTS = before;
  }
});

test('bad input exits 2 with one FILE:LINE:COL line, limits included', async () => {
  const r = await run(['run', 'x.iommu.yaml'], { 'x.iommu.yaml': 'platform: generic-4k\nsteps:\n  - iommu_domain_alloc: { dev: dma0 }\n    as: d\n'
    + '  - iommu_map: { domain: $d, iova: 0x1000, paddr: 0, size: 1T }\n' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^x\.iommu\.yaml:5:54: error: step 1 \(iommu_map\): .*\(simulator limit pagesPerStep; see docs\/limits\.md\)\n$/);
});

function spawnCli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, stderr: () => stderr };
}

test('Ctrl-C during a long run ends it at once: exit 130, one line, no stack', { timeout: 60_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-lens-sigint-'));
  const file = path.join(dir, 'long.iommu.yaml');
  // each step writes or clears 32768 page-table entries (the same tables each time): minutes of work in all,
  // a few dozen milliseconds per step
  const steps = Array.from({ length: 4000 }, (_, i) => i % 2 === 0
    ? '  - iommu_map: { domain: $d, iova: 0x1000, paddr: 0x80000000, size: 128M }\n'
    : '  - iommu_unmap: { domain: $d, iova: 0x1000, size: 128M }\n').join('');
  fs.writeFileSync(file, 'platform: generic-4k\nsteps:\n  - iommu_domain_alloc: { dev: dma0 }\n    as: d\n' + steps);
  try {
    const c = spawnCli(['run', file]);
    await new Promise(r => setTimeout(r, 3000));          // loaded (or nearly: the handler waits for the load) and running
    const sent = Date.now();
    c.child.kill('SIGINT');
    const { code } = await c.exited;
    // the whole run takes minutes; stopping within a load time plus a step means the run was interrupted
    assert.ok(Date.now() - sent < 20_000, `took ${Date.now() - sent} ms to stop`);
    assert.equal(code, 130, c.stderr());
    assert.equal(c.stderr(), 'iommu-lens: interrupted\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a reader that goes away (| head) ends the CLI quietly', { timeout: 60_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-lens-epipe-'));
  const file = path.join(dir, 'big.iommu.yaml');
  // a report of several megabytes: far more than a pipe holds, so writes go on after the reader left
  fs.writeFileSync(file, 'platform: generic-4k\nsteps:\n  - iommu_domain_alloc: { dev: dma0 }\n    as: d\n' +
    Array.from({ length: 300 }, (_, i) => `  - iommu_map: { domain: $d, iova: ${i * 0x100000}, paddr: 0x80000000, size: 64K }\n`).join(''));
  try {
    const c = spawnCli(['run', file, '--json']);
    c.child.stdout!.once('data', () => c.child.stdout!.destroy());
    const { code } = await c.exited;
    assert.equal(code, 0, `exit ${code}: ${c.stderr()}`);
    assert.equal(c.stderr(), '');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
