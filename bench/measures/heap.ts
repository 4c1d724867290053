// live-mappings-heap: what one live 4 KiB mapping costs in memory. 1,000,000 iommu_map calls of distinct 4K
// pages on a 4K/2M/1G unmanaged domain, then a full GC; the figure is Δ(heapUsed + arrayBuffers) / mappings
// (page tables are Uint32Arrays whose backing stores live outside the JS heap, in arrayBuffers). The floor is
// the same count of bare 64-bit descriptors in one Uint32Array, measured the same way. The extra figures split
// the cost (the page tables; the tracepoint log when recording is on) and price a live dma_map_single mapping
// (IOVA allocation, dma-debug entry and record per mapping).
// Needs node --expose-gc (the orchestrator passes it).
import { loadSession } from '../../simulator/session';
import type { Session } from '../../simulator/session';
import { iommuMap } from '../../simulator/iommu/map';
import * as dmaApi from '../../simulator/dma/api';
import { DMA_TO_DEVICE } from '../../simulator/dma/state';
import { PROT_READ, PROT_WRITE } from '../../simulator/iommu/pte-format';
import { sig } from '../lib/stats';
import { measureEach, ran, skipped, type MeasureContext, type Outcome } from '../lib/types';

const MAPPINGS = 1_000_000;
const RUNS = 3;
const DMA_MAPPINGS = 250_000;

const SCENARIO = `
name: bench live mappings
platform: generic-4k
steps:
  - probe: dma0
  - iommu_domain_alloc: { dev: dma0, type: unmanaged }
    as: d
  - iommu_attach_device: { domain: $d, dev: dma0 }
    expect: { result: 0 }
  - probe: "0000:01:00.0"
  - kmalloc: { size: 4K }
    as: buf
`;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc!;
  g(); g();
}

/** heapUsed + arrayBuffers after a full GC, and the two parts. */
function heap(): { total: number; heapUsed: number; arrayBuffers: number } {
  gc();
  const m = process.memoryUsage();
  return { total: m.heapUsed + m.arrayBuffers, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

function boot(trace: boolean): Session {
  const s = loadSession(SCENARIO, 'bench-heap.iommu.yaml', { collectEvents: false, trace });
  s.runAll();
  if (s.oops || s.runs.some(r => r.expectFailures.length)) throw new Error('the setup scenario failed');
  return s;
}

/** Maps n distinct 4K pages; returns the bytes per mapping and the split (trace log: what clearing it frees). */
function iommuRun(n: number, trace: boolean) {
  const s = boot(trace);
  const k = s.kernel;
  const d = [...k.domains.values()].find(x => x.type === 1)!;
  const base = k.mem.buddy.base;
  const pages = k.mem.buddy.pages;
  const before = heap();
  for (let i = 0; i < n; i++) {
    const r = iommuMap(k, d, 0x100000000 + i * 4096, base + (i % pages) * 4096, 4096, PROT_READ | PROT_WRITE);
    if (r !== 0) throw new Error(`iommu_map #${i} failed: ${JSON.stringify(r)}`);
  }
  const after = heap();
  const traceEntries = k.trace.length;
  k.trace.length = 0;
  const noTrace = heap();
  // read the kernel after the last measurement: one no longer used may be collected by the gc() inside heap()
  const tables = s.kernel.domains.get(d.id)!.pgtable!.tables;
  const per = (after.total - before.total) / n;
  const out = {
    per,
    heapUsedPer: (after.heapUsed - before.heapUsed) / n,
    arrayBuffersPer: (after.arrayBuffers - before.arrayBuffers) / n,
    traceLogPer: (after.total - noTrace.total) / n,
    traceEntries, tables,
  };
  return out;
}

function dmaRun(n: number) {
  const s = boot(false);
  const k = s.kernel;
  const dev = k.devices.get('0000:01:00.0')!;
  const paddr = (s.runs[4].result as { paddr: number }).paddr;
  const before = heap();
  for (let i = 0; i < n; i++) {
    const dma = dmaApi.dmaMapSingle(k, dev, paddr, 4096, DMA_TO_DEVICE);
    if (typeof dma !== 'number') throw new Error(`dma_map_single #${i} failed: ${String(dma)}`);
  }
  const after = heap();
  // read the kernel after the measurement: a kernel no longer used may be collected by the gc() inside heap()
  return { per: (after.total - before.total) / n, mappingsAlive: s.kernel.domains.size > 0 ? n : 0 };
}

function floorRun(n: number): number {
  const before = heap();
  const ptes = new Uint32Array(2 * n);
  for (let i = 0; i < n; i++) { ptes[2 * i] = i * 4096 + 0x743; ptes[2 * i + 1] = 0; }
  const after = heap();
  const per = (after.total - before.total) / n;
  if (ptes[7] === 42) throw new Error('unreachable');
  return per;
}

export async function liveMappingsHeap(ctx: MeasureContext): Promise<Outcome> {
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') return skipped('node was started without --expose-gc');
  iommuRun(10_000, false);            // warm-up: JIT, lazily created module state
  const values: number[] = [];
  const floors: number[] = [];
  let last: ReturnType<typeof iommuRun> | null = null;
  for (let r = 0; r < RUNS; r++) {
    ctx.log(`live-mappings-heap: run ${r + 1}/${RUNS}, ${MAPPINGS} iommu_map calls`);
    last = iommuRun(MAPPINGS, false);
    values.push(last.per);
    floors.push(floorRun(MAPPINGS));
  }
  ctx.log(`live-mappings-heap: ${MAPPINGS} iommu_map calls with tracepoint recording on (extra figure)`);
  const traced = iommuRun(MAPPINGS, true);
  let dma: ReturnType<typeof dmaRun> | string;
  if (typeof dmaApi.dmaMapSingle !== 'function') dma = 'not measured: no dmaMapSingle export yet';
  else {
    ctx.log(`live-mappings-heap: ${DMA_MAPPINGS} dma_map_single calls (extra figure)`);
    try { dma = dmaRun(DMA_MAPPINGS); } catch (e) { dma = `not measured: ${(e as Error).message}`; }
  }
  const l = last!;
  return ran(values, floors, 'one bare 64-bit descriptor per mapping in a Uint32Array', {
    note: `value = Δ(heapUsed + arrayBuffers) after gc per live iommu_map'ed 4K page (${MAPPINGS} pages; page tables are ` +
      'off-heap ArrayBuffers, so heapUsed alone would miss them); tracepoints not recorded (the CLI default); ' +
      'withTracingPerMapping: the same with recording on (SessionOptions.trace), traceLogPerMapping: its share',
    extra: {
      heapUsedPerMapping: sig(l.heapUsedPer), arrayBuffersPerMapping: sig(l.arrayBuffersPer),
      pageTables: l.tables, withTracingPerMapping: sig(traced.per), traceLogPerMapping: sig(traced.traceLogPer), traceEntries: traced.traceEntries,
      dmaMapSinglePerMapping: typeof dma === 'string' ? dma : sig(dma.per),
    },
  });
}

export const measure = measureEach({ 'live-mappings-heap': liveMappingsHeap });
