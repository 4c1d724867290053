// Tracepoint bodies exactly as the kernel's TP_printk formats print them (include/trace/events/iommu.h,
// include/trace/events/dma.h, mainline). The simulator emits TracepointEvents with these bodies;
// import-trace parses them back (import-body.ts is the exact inverse).
import { hexPad } from '../core/format';

const llx16 = (n: number) => '0x' + hexPad(n, 16);
/** %llx: lowercase hex, no prefix, no padding */
const llx = (n: number) => n.toString(16);
/** %p on 64-bit: 16 hex digits. The kernel hashes the pointer; the simulator prints it as no_hash_pointers would. */
const ptr = (n: number) => hexPad(n, 16);

export const tp = {
  addDeviceToGroup: (groupId: number, dev: string) => `IOMMU: groupID=${groupId} device=${dev}`,
  removeDeviceFromGroup: (groupId: number, dev: string) => `IOMMU: groupID=${groupId} device=${dev}`,
  attachDeviceToDomain: (dev: string) => `IOMMU: device=${dev}`,
  /** map: the range end is iova + size (exclusive), as the kernel prints it */
  map: (iova: number, paddr: number, size: number) =>
    `IOMMU: iova=${llx16(iova)} - ${llx16(iova + size)} paddr=${llx16(paddr)} size=${size}`,
  unmap: (iova: number, size: number, unmapped: number) =>
    `IOMMU: iova=${llx16(iova)} - ${llx16(iova + size)} size=${size} unmapped_size=${unmapped}`,
  ioPageFault: (driver: string, dev: string, iova: number, flags: number) =>
    `IOMMU:${driver} ${dev} iova=${llx16(iova)} flags=0x${hexPad(flags, 4)}`,
  /** dma_map_phys (dma_map_page in 6.10-6.17). attrs as decode_dma_attrs prints them: '' when none. */
  dmaMapPhys: (dev: string, dir: string, dma: number, size: number, phys: number, attrs = '') =>
    `${dev} dir=${dir} dma_addr=${llx(dma)} size=${size} phys_addr=${llx(phys)} attrs=${attrs}`,
  dmaUnmapPhys: (dev: string, dir: string, dma: number, size: number, attrs = '') =>
    `${dev} dir=${dir} dma_addr=${llx(dma)} size=${size} attrs=${attrs}`,
  /**
   * dma_alloc: the kernel prints the CPU virtual address (%p), not a physical one; `cpu` is the buffer's
   * kernel address. flags as show_gfp_flags prints them ("none" for 0).
   */
  dmaAlloc: (dev: string, dma: number, cpu: number, size: number, dir: string, flags = 'GFP_KERNEL', attrs = '') =>
    `${dev} dir=${dir} dma_addr=${llx(dma)} size=${size} virt_addr=${ptr(cpu)} flags=${flags} attrs=${attrs}`,
  dmaFree: (dev: string, dma: number, cpu: number, size: number, dir: string, attrs = '') =>
    `${dev} dir=${dir} dma_addr=${llx(dma)} size=${size} virt_addr=${ptr(cpu)} attrs=${attrs}`,
  /**
   * dma_map_sg: `nents` / `ents` are the counts printed (at most DMA_TRACE_MAX_ENTRIES = 128), `nentsMax` /
   * `entsMax` the full counts; arrays print as __print_array does: `{0x1000,0x2000}`, sizes in hex too.
   */
  dmaMapSg: (dev: string, dir: string, nents: number, nentsMax: number, ents: number, entsMax: number,
    dmaAddrs: number[], lengths: number[], physAddrs: number[], attrs = '') =>
    `${dev} dir=${dir} nents=${nents}/${nentsMax} ents=${ents}/${entsMax}` +
    `${nentsMax > DMA_TRACE_MAX_ENTRIES || entsMax > DMA_TRACE_MAX_ENTRIES ? ' [TRUNCATED]' : ''}` +
    ` dma_addrs=${printArray(dmaAddrs)} sizes=${printArray(lengths)} phys_addrs=${printArray(physAddrs)} attrs=${attrs}`,
  /** dma_unmap_sg prints only the physical addresses of the nents entries (the count itself is not printed). */
  dmaUnmapSg: (dev: string, dir: string, _nents: number, physAddrs: number[], attrs = '') =>
    `${dev} dir=${dir} phys_addrs=${printArray(physAddrs)} attrs=${attrs}`,
  dmaSyncSingle: (dev: string, dir: string, dma: number, size: number) =>
    `${dev} dir=${dir} dma_addr=${llx(dma)} size=${size}`,
};

/** dma_map_sg records at most this many entries per array (include/trace/events/dma.h). */
export const DMA_TRACE_MAX_ENTRIES = 128;

/** __print_array: `{0x1,0x2}` — comma without space, every element in hex. */
export function printArray(a: number[]): string {
  return '{' + a.map(x => '0x' + x.toString(16)).join(',') + '}';
}

/** Directions as dma tracepoints print them. */
export function dirName(dir: string): string {
  return ({ bidirectional: 'BIDIRECTIONAL', to_device: 'TO_DEVICE', from_device: 'FROM_DEVICE', none: 'NONE' } as Record<string, string>)[dir] ?? dir.toUpperCase();
}

/**
 * A full line as /sys/kernel/tracing/trace prints it (trace_print_context: "%16s-%-7d [%03d] flags %5lu.%06lu: "):
 * `      iommu-lens-1       [000] .....     0.000001: map: IOMMU: ...`
 * The simulator's task is "iommu-lens", pid 1, CPU 0; time advances one microsecond per event.
 */
export function traceLine(name: string, body: string, seq: number, comm = 'iommu-lens', pid = 1, cpu = 0): string {
  const secs = Math.floor(seq / 1e6), usecs = seq % 1e6;
  return `${comm.padStart(16)}-${String(pid).padEnd(7)} [${String(cpu).padStart(3, '0')}] ..... ` +
    `${String(secs).padStart(5)}.${String(usecs).padStart(6, '0')}: ${name}: ${body}`;
}
