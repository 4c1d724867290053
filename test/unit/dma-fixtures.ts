// Shared set-up for the DMA layer's tests: a booted session on an inline platform, run up to its last step,
// so tests can call the public DMA API (simulator/dma/api*.ts) on the kernel directly.
import { loadSession, type Session } from '../../simulator/session';
import type { Kernel } from '../../simulator/kernel';
import type { Device } from '../../simulator/iommu/device';

export interface Rig { s: Session; k: Kernel; dev(name: string): Device; result(as: string): any }

export interface RigOptions {
  pgsizes?: string;            // IOMMU pgsize_bitmap, e.g. "[16K]"
  pageSize?: string;           // CPU PAGE_SIZE
  largePages?: boolean;
  strict?: boolean;
  swiotlb?: boolean;
  options?: string;            // kernel options map body, e.g. "flush_queue_timeout: 3"
  devices?: string;            // extra device lines (YAML flow maps)
  ias?: number;
  steps?: string;              // YAML step lines
  memory?: string;             // memory map, default { base: 0x800000000, size: 1G }
  version?: string;
}

/** A platform with one generic IOMMU `io0`, a platform device `plat` and a PCI device `pci` (both probed). */
export function rig(o: RigOptions = {}): Rig {
  const yaml = `
name: dma test
platform:
  memory: ${o.memory ?? '{ base: 0x800000000, size: 1G }'}
  iommus:
    - { name: io0, model: generic, pgsize_bitmap: ${o.pgsizes ?? '[4K, 2M, 1G]'}, ias: ${o.ias ?? 48}, oas: 48 }
  devices:
    - { name: plat, iommu: io0, streams: [1] }
    - { name: pci, iommu: io0, streams: [2], bus: pci }
${o.devices ?? ''}
kernel:
  page_size: ${o.pageSize ?? '4K'}
  large_iommu_pages: ${o.largePages ?? false}
  dma_strict: ${o.strict ?? true}
  swiotlb: ${o.swiotlb ?? true}
${o.version ? `  version: "${o.version}"\n` : ''}  options: { ${o.options ?? ''} }
steps:
  - probe: plat
  - probe: pci
${o.steps ?? ''}
`;
  const s = loadSession(yaml, 'dma-test.iommu.yaml');
  s.runAll();
  const k = s.kernel;
  return {
    s, k,
    dev: (name: string) => {
      const d = k.device(name);
      if (!d) throw new Error(`no device ${name}`);
      return d;
    },
    result: (as: string) => s.runs.find(r => r.spec.as === as)?.result,
  };
}

/** Finding codes raised since `from` (an index into kernel.findings). */
export function codesSince(k: Kernel, from: number): string[] {
  return k.findings.slice(from).map(f => f.code);
}

/** printk lines containing `text`. */
export function logged(k: Kernel, text: string): string[] {
  return k.dmesg.map(l => l.text).filter(t => t.includes(text));
}
