// A synthetic Report for the address map's tests, screenshots and benchmark: an Apple-style DART domain
// (16 KiB granule, 4 KiB CPU pages) whose dma_map_single calls expose the rest of each granule, plus a few
// stale IOTLB entries, swiotlb bounce slots, faults, holes and a reserved region. Deterministic per seed.
import type { Report, ReportBuffer, ReportFault, ReportMapping, ReportStep } from '../simulator/report/types';
import { mulberry32 } from '../simulator/core/prng';

export interface SyntheticOptions {
  /** mappings in domain d1 */
  mappings: number;
  seed?: number;
}

const rng = mulberry32;

const hex = (n: number) => '0x' + n.toString(16);
const K = 1024;
const GRANULE = 16 * K;
const MEM_BASE = 0x800000000;
const MEM_SIZE = 8 * 2 ** 30;

export function syntheticReport(opt: SyntheticOptions): Report {
  const rand = rng(opt.seed ?? 1);
  const n = opt.mappings;
  const mappings: ReportMapping[] = [];
  const buffers: ReportBuffer[] = [];
  const faults: ReportFault[] = [];
  const steps: ReportStep[] = [
    { index: 0, op: 'probe', site: null, result: 'd1', events: [], findings: [] },
  ];
  const devices = ['xhci', 'dcp'];
  // Physical pages handed out from a cursor with random gaps, so neighbouring buffers share granules.
  let phys = MEM_BASE + 0x10000000;
  // IOVAs allocated top-down below 4 GiB like alloc_iova, with occasional holes left by unmaps.
  // Large runs need more than 32 bits of IOVA (a t8110-style DART with a 36-bit input space).
  const ias = n > 20000 ? 36 : 32;
  let iova = 2 ** ias - 0x100000;
  const bounceBase = MEM_BASE + 0x7c000000;
  let bounceNext = 0;
  for (let i = 0; i < n; i++) {
    const r = rand();
    const size = r < 0.8 ? GRANULE : r < 0.95 ? 4 * GRANULE : 32 * GRANULE;
    if (rand() < 0.08) iova -= GRANULE * (1 + Math.floor(rand() * 16));   // a hole
    iova -= size;
    if (iova < 0x100000) break;
    phys += GRANULE * Math.floor(rand() * 3);
    const paddr = phys;
    phys += size;
    const step = i + 1;
    const dev = devices[i % 7 === 3 ? 1 : 0];
    const small = size === GRANULE && rand() < 0.7;
    const bounced = !small && size === 4 * GRANULE && rand() < 0.05;
    const requested = small ? 4 * K : size - (rand() < 0.3 ? 4 * K : 0);
    const off = small ? 4 * K * Math.floor(rand() * 4) : 0;
    let target = paddr;
    if (bounced) {
      target = bounceBase + bounceNext;
      bounceNext += size;
      buffers.push({ id: `slot${buffers.length}`, kind: 'swiotlb-slot', paddr: hex(target), size, owner: `step ${step} bounce` });
    }
    const id = `buf${i}`;
    buffers.push({ id, kind: small ? 'kmalloc' : 'pages', paddr: hex(paddr + off), size: requested, owner: `step ${step} kmalloc`,
      dma: [{ dev, dma: hex(iova + off), size: requested }] });
    if (small && rand() < 0.5) {
      // Another object in the same granule: the bytes the device can see but should not.
      const nOff = (off + 8 * K) % GRANULE;
      buffers.push({ id: `obj${i}`, kind: 'kmalloc', paddr: hex(paddr + nOff), size: 4 * K, owner: `step ${step} kmalloc (neighbour)` });
    }
    const stale = rand() < 0.01;
    mappings.push({ iova: hex(iova), size, paddr: hex(bounced ? target : paddr), prot: rand() < 0.2 ? ['read'] : ['read', 'write'],
      owner: `dma_map_single step ${step}`, requested, exposed: size - requested, ...(stale ? { stale: true } : {}) });
    steps.push({ index: step, op: 'dma_map_single', site: `drivers/usb/host/xhci-ring.c:xhci_queue_bulk_tx`, result: hex(iova + off),
      events: [], findings: [] });
    if (rand() < 0.002 || (i === 2 && n < 50)) {
      faults.push({ step, dev, stream: 1, iova: hex(iova - GRANULE / 2 - (i === 2 ? GRANULE : 0)), kind: 'translation',
        message: `apple-dart: translation fault: status:0x1 stream:1 code:0x1 (NO PTE FOR IOVA) at ${hex(iova - GRANULE / 2)}`,
        access: 'write', iommu: 'dart0' });
    }
  }
  if (n >= 3 && n < 50) {
    // A permission fault: a write to a read-only mapping.
    const ro = mappings.findIndex(m => !m.prot.includes('write'));
    if (ro >= 0) {
      faults.push({ step: ro + 1, dev: 'xhci', stream: 1, iova: hex(parseInt(mappings[ro].iova, 16) + 0x100), kind: 'permission',
        message: 'apple-dart: translation fault: status:0x2 stream:1 code:0x2 (WRITE FAULT)', access: 'write', iommu: 'dart0' });
    }
  }
  const dcpMappings: ReportMapping[] = [];
  for (let i = 0; i < 4; i++) {
    dcpMappings.push({ iova: hex(0x10000000 + i * 0x200000), size: 0x200000, paddr: hex(MEM_BASE + 0x40000000 + i * 0x400000),
      prot: ['read'], owner: `iommu_map step ${n + 1 + i}` });
  }
  return {
    scenario: `synthetic ${n} mappings`,
    kernel: { page_size: 4 * K, large_iommu_pages: true, dma_strict: false, swiotlb: true },
    steps,
    groups: [{ id: 0, iommu: 'dart0', devices }],
    domains: [
      { id: 'd1', type: 'DMA_FQ', iommu: 'dart0', granule: GRANULE, pgsize_bitmap: [GRANULE], devices, mappings,
        aperture: { start: '0x0', end: hex(2 ** ias - 1) }, format: ias > 32 ? 'dart2' : 'dart1', iova_cookie: true,
        reserved: [{ start: '0xfee00000', end: '0xfeefffff', why: 'MSI doorbell' }] },
      { id: 'd2', type: 'UNMANAGED', iommu: 'dart1', granule: GRANULE, pgsize_bitmap: [GRANULE], devices: ['disp0'],
        mappings: dcpMappings, aperture: { start: '0x0', end: '0xffffffff' }, format: 'dart1' },
    ],
    devices: [
      { name: 'xhci', group: 0, domain: 'd1', streams: [1], untrusted: false },
      { name: 'dcp', group: 0, domain: 'd1', streams: [2], untrusted: false },
      { name: 'disp0', group: 1, domain: 'd2', streams: [0], untrusted: false },
    ],
    faults,
    findings: [],
    platform: { name: 'apple-t8103', memory: { base: hex(MEM_BASE), size: MEM_SIZE },
      iommus: [{ name: 'dart0', model: 'apple-dart-t8103', pgsize_bitmap: [GRANULE], ias, oas: 36, bypass: true }] },
    buffers,
  };
}
