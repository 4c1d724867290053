// Hot-loop microbenchmarks of the public simulator API, with no bus listener (what the CLI and a benchmark
// driver see):
//   dma-map-unmap       dma_map_single + dma_unmap_single of a 4 KiB buffer on a 16 KiB-granule DART DMA domain
//                       (Apple t8103, PCIe xHCI behind apcie-dart2; 4K CPU pages, large-page series, strict)
//   iommu-map-unmap-4k  iommu_map + iommu_unmap of one 4K page on a 4K/2M/1G unmanaged domain (generic-4k)
// The machine is built by loadSession() of a small scenario; the loop then calls the layer's functions directly.
import { loadSession } from '../../simulator/session';
import type { Session } from '../../simulator/session';
import type { Kernel } from '../../simulator/kernel';
import type { Domain } from '../../simulator/iommu/domain';
import * as dmaApi from '../../simulator/dma/api';
import * as iommuMapApi from '../../simulator/iommu/map';
import { DMA_TO_DEVICE } from '../../simulator/dma/state';
import { PROT_READ, PROT_WRITE } from '../../simulator/iommu/pte-format';
import { pairedSamples, summarize, sig, type Batch } from '../lib/stats';
import { measureEach, ran, skipped, type MeasureContext, type Outcome } from '../lib/types';
import { pteFloor } from './pte-floor';

const SAMPLES = 9;
const WARMUP = 3;
const SAMPLE_MS = 150;

/** A booted session with no bus listener; `trace` as SessionOptions.trace (the CLI records none without --trace). */
function boot(text: string, file: string, trace: boolean): Session | string {
  let s: Session;
  try {
    s = loadSession(text, file, { collectEvents: false, trace });
    s.runAll();
  } catch (e) {
    return `the setup scenario does not run: ${(e as Error).message.split('\n')[0]}`;
  }
  const bad = s.runs.find(r => r.expectFailures.length);
  if (s.oops) return `the setup scenario oopsed: ${s.oops}`;
  if (bad) return `the setup scenario failed step ${bad.spec.index} (${bad.spec.op}): ${bad.expectFailures.join('; ')}`;
  if (s.kernel.bus.active) return 'the setup session has a bus listener although collectEvents is false';
  return s;
}

function leafWords(d: Domain, iova: number): [number, number] | string {
  const pt = d.pgtable!;
  const walk = pt.walk(iova);
  const leaf = walk.find(w => w.outcome === 'leaf');
  if (!leaf) return `no leaf for ${iova.toString(16)} after the first map`;
  const raw = BigInt(leaf.raw);
  return [Number(raw & 0xffffffffn), Number(raw >> 32n)];
}

function geometry(d: Domain, pgsize: number) {
  const pt = d.pgtable!;
  const leafLevel = pt.levelFor(pgsize);
  return { shifts: pt.fmt.shifts, bits: pt.fmt.bits, leafLevel };
}

const DMA_SCENARIO = `
name: bench dma_map_single on a 16K DART with 4K pages
platform: apple-t8103
kernel: { page_size: 4K, large_iommu_pages: true, dma_strict: true }
steps:
  - probe: "0000:03:00.0"
    as: dom
    expect: { result: ok }
  - kmalloc: { size: 4K }
    as: buf
`;

interface Loop {
  subject: Batch;
  floor: Batch;
  k: Kernel;
  d: Domain;
  iova: number;
}

/** Boots the DART scenario and returns the map/unmap loop and its floor, or why it cannot run. */
function dmaLoop(trace: boolean): Loop | string {
  if (typeof dmaApi.dmaMapSingle !== 'function' || typeof dmaApi.dmaUnmapSingle !== 'function') {
    return 'simulator/dma/api.ts does not export dmaMapSingle / dmaUnmapSingle yet';
  }
  const s = boot(DMA_SCENARIO, 'bench-dma.iommu.yaml', trace);
  if (typeof s === 'string') return s;
  const k: Kernel = s.kernel;
  const dev = k.devices.get('0000:03:00.0')!;
  const d = [...k.domains.values()].find(x => x.type === 3 && x.granule === 16384);
  if (!d || !d.pgtable) return 'the xHCI did not get a 16K DMA domain on apple-t8103 with 4K pages and the large-page series';
  const paddr = (s.runs[1].result as { paddr: number }).paddr;
  const size = 4096;
  const first = dmaApi.dmaMapSingle(k, dev, paddr, size, DMA_TO_DEVICE);
  if (typeof first !== 'number') return `dma_map_single returned ${String(first)} in the setup`;
  const iova = first - (first % d.granule);
  const words = leafWords(d, iova);
  dmaApi.dmaUnmapSingle(k, dev, first, size, DMA_TO_DEVICE);
  if (typeof words === 'string') return words;
  if (d.pgtable.lookup(iova)) return 'dma_unmap_single left the granule mapped';
  const subject = (n: number) => {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const dma = dmaApi.dmaMapSingle(k, dev, paddr, size, DMA_TO_DEVICE);
      dmaApi.dmaUnmapSingle(k, dev, dma, size, DMA_TO_DEVICE);
      acc += dma as number;
    }
    return acc;
  };
  return { subject, floor: pteFloor(geometry(d, d.granule), iova, words[0], words[1]), k, d, iova };
}

/** Samples a loop against its floor; with `traced`, also a few samples of the same loop with tracing on. */
function measureLoop(loop: Loop, traced: Loop | string, floorWhat: string, more: Record<string, unknown>): Outcome {
  const { k } = loop;
  const counted = countPairs(loop.subject);
  const traceBefore = k.trace.length, findingsBefore = k.findings.length;
  const r = pairedSamples(counted.batch, loop.floor, { warmupSamples: WARMUP, samples: SAMPLES, targetSampleMs: SAMPLE_MS, unitPerMs: 1000 });
  const pairs = counted.pairs();
  let withTracing: number | string;
  if (typeof traced === 'string') withTracing = `not measured: ${traced}`;
  else {
    const t = pairedSamples(traced.subject, traced.floor, { warmupSamples: 1, samples: 3, targetSampleMs: SAMPLE_MS, unitPerMs: 1000 });
    withTracing = sig(summarize(t.subject).median);
  }
  return ran(r.subject, r.floor, floorWhat, {
    cpu: r.subjectCpu,
    note: 'no bus listener, tracepoints not recorded (SessionOptions.trace false, as the CLI runs without --trace); ' +
      'withTracingUs is the same loop with tracepoint recording on',
    extra: {
      withTracingUs: withTracing, iterationsPerSample: r.iterations, pairs,
      traceEntriesPerPair: sig((k.trace.length - traceBefore) / pairs), findingsPerPair: sig((k.findings.length - findingsBefore) / pairs),
      domain: `${loop.d.id} ${loop.d.typeName} on ${loop.d.iommu.name}, ${loop.d.pgtable!.fmt.name}`, iova: '0x' + loop.iova.toString(16), ...more,
    },
  });
}

function countPairs(b: Batch): { batch: Batch; pairs: () => number } {
  let pairs = 0;
  return { batch: n => { pairs += n; return b(n); }, pairs: () => pairs };
}

export async function dmaMapUnmap(_ctx: MeasureContext): Promise<Outcome> {
  const loop = dmaLoop(false);
  if (typeof loop === 'string') return skipped(loop);
  return measureLoop(loop, dmaLoop(true), 'PTE write + clear of the same 16K leaf by a bare typed-array loop (same index arithmetic)', {});
}

const IOMMU_SCENARIO = `
name: bench iommu_map on a 4K/2M/1G domain
platform: generic-4k
steps:
  - probe: dma0
  - iommu_domain_alloc: { dev: dma0, type: unmanaged }
    as: d
  - iommu_attach_device: { domain: $d, dev: dma0 }
    expect: { result: 0 }
  - kmalloc: { size: 4K }
    as: buf
`;

/** Boots generic-4k with an unmanaged domain and returns the iommu_map/iommu_unmap loop and its floor. */
function iommuLoop(trace: boolean): Loop | string {
  if (typeof iommuMapApi.iommuMap !== 'function' || typeof iommuMapApi.iommuUnmap !== 'function') {
    return 'simulator/iommu/map.ts does not export iommuMap / iommuUnmap';
  }
  const s = boot(IOMMU_SCENARIO, 'bench-iommu.iommu.yaml', trace);
  if (typeof s === 'string') return s;
  const k: Kernel = s.kernel;
  const d = [...k.domains.values()].find(x => x.type === 1);
  if (!d || !d.pgtable) return 'no unmanaged paging domain after the setup scenario';
  const bitmap = d.pgsizeBitmap.join(',');
  if (bitmap !== [4096, 2 ** 21, 2 ** 30].join(',')) return `the domain's pgsize_bitmap is ${bitmap}, not 4K/2M/1G`;
  const paddr = (s.runs[3].result as { paddr: number }).paddr;
  const iova = 0x12345000;
  const prot = PROT_READ | PROT_WRITE;
  if (iommuMapApi.iommuMap(k, d, iova, paddr, 4096, prot) !== 0) return 'iommu_map of one 4K page failed in the setup';
  const words = leafWords(d, iova);
  if (iommuMapApi.iommuUnmap(k, d, iova, 4096) !== 4096) return 'iommu_unmap did not unmap 4K in the setup';
  if (typeof words === 'string') return words;
  const subject = (n: number) => {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const r = iommuMapApi.iommuMap(k, d, iova, paddr, 4096, prot);
      acc += iommuMapApi.iommuUnmap(k, d, iova, 4096) + (r === 0 ? 0 : 1);
    }
    return acc;
  };
  return { subject, floor: pteFloor(geometry(d, 4096), iova, words[0], words[1]), k, d, iova };
}

export async function iommuMapUnmap4k(_ctx: MeasureContext): Promise<Outcome> {
  const loop = iommuLoop(false);
  if (typeof loop === 'string') return skipped(loop);
  return measureLoop(loop, iommuLoop(true), 'PTE write + clear of the same 4K leaf (4-level walk) by a bare typed-array loop', {});
}

export const measure = measureEach({
  'dma-map-unmap': dmaMapUnmap,
  'iommu-map-unmap-4k': iommuMapUnmap4k,
});
