// DMA-API debugging (kernel/dma/debug.c): every live mapping is an entry keyed by device and DMA address;
// unmap, free and sync calls are checked against it. Each problem becomes a finding whose message is the
// kernel's own text (`DMA-API: DRIVER DEVICE: ...`). Like err_printk with the default show_num_errors = 1,
// only the first error is printed to the log unless kernel.options.dma_debug_all_errors is set.
import { hexPad } from '../core/format';
import type { Severity } from '../core/events';
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import {
  DEBUG_COHERENT, DEBUG_SG, DEBUG_TYPE_NAMES, DIR_DEBUG, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE,
  DevDma, DmaDir, DmaEntry, dmaState,
} from './state';

/** How many unmapped addresses per device are remembered to recognise a double free. */
const FREED_HISTORY = 4096;

const addr = (n: number) => '0x' + hexPad(n, 16);

/** err_printk: a finding always, a WARN in the log for the first error only (show_num_errors = 1). */
function errPrintk(k: Kernel, dev: Device, dd: DevDma, code: string, severity: Severity, text: string, data: Record<string, unknown>): void {
  const message = `DMA-API: ${dd.driver} ${dev.name}: ${text}`;
  const st = dmaState(k);
  if (st.opts.debugAllErrors || st.debugErrorsShown === 0) {
    st.debugErrorsShown++;
    k.printk('warn', `WARNING: kernel/dma/debug.c: ${message}`);
  }
  k.finding(code, severity, message, { dev: dev.name, ...data });
}

/** L1_CACHE_SHIFT on arm64: dma-debug tracks 64-byte cache lines */
const CACHELINE = 64;

/**
 * active_cacheline_insert: two live mappings the device may write (not DMA_TO_DEVICE) starting in the same
 * cache line cannot both be kept coherent by cache maintenance.
 */
function cachelineInsert(k: Kernel, dev: Device, dd: DevDma, e: DmaEntry): void {
  if (e.dir === DMA_TO_DEVICE) return;
  const st = dmaState(k);
  const lines = st.cachelines;
  const cln = Math.floor(e.paddr / CACHELINE);
  const n = lines.get(cln);
  lines.set(cln, (n ?? 0) + 1);
  if (n === 0) st.cachelineZeros--;
  if (n !== undefined && n > 0 && st.opts.debug) {
    k.printk('err', 'DMA-API: cacheline tracking EEXIST, overlapping mappings aren\'t supported');
    k.finding('overlapping-mapping', 'warning',
      `${dev.name}: ${e.rec.api} maps ${addr(e.paddr)}, whose cache line is already in a live mapping the device may write ` +
      '(dma-debug: "cacheline tracking EEXIST, overlapping mappings aren\'t supported"): CPU cache maintenance for one corrupts the other',
      { dev: dev.name, paddr: e.paddr, driver: dd.driver });
  }
}

function cachelineRemove(k: Kernel, e: DmaEntry): void {
  if (e.dir === DMA_TO_DEVICE) return;
  const st = dmaState(k);
  const lines = st.cachelines;
  const cln = Math.floor(e.paddr / CACHELINE);
  const n = lines.get(cln) ?? 0;
  if (n > 1) {
    lines.set(cln, n - 1);
  } else if (n === 1) {
    lines.set(cln, 0);
    if (++st.cachelineZeros > 64 && st.cachelineZeros * 2 > lines.size) {
      for (const [line, count] of lines) if (count === 0) lines.delete(line);
      st.cachelineZeros = 0;
    }
  }
}

/** add_dma_entry */
export function debugAdd(k: Kernel, dev: Device, dd: DevDma, e: DmaEntry): void {
  cachelineInsert(k, dev, dd, e);
  dd.entries.add(e);
  dd.live++;
}

function unlink(k: Kernel, dd: DevDma, e: DmaEntry): void {
  cachelineRemove(k, e);
  dd.entries.remove(e);
  dd.live--;
  if (dd.freed.size >= FREED_HISTORY) {
    dd.freedOld = dd.freed;
    dd.freed = new Map();
  }
  dd.freed.set(e.dma, e.rec.step);
}

/** __hash_bucket_find with exact_match: best fit on size, type, direction and sg count; null when ambiguous. */
function findExact(dd: DevDma, dma: number, size: number, type: number, dir: number, sgCallEnts: number): DmaEntry | null {
  let e: DmaEntry | null = dd.entries.get(dma) ?? null;
  if (!e || !e.next) return e;
  let best: DmaEntry | null = null;
  let bestLvl = -1;
  let matches = 0;
  for (; e; e = e.next) {
    matches++;
    const lvl = (e.size === size ? 1 : 0) + (e.type === type ? 1 : 0) + (e.dir === dir ? 1 : 0) + (e.sgCallEnts === sgCallEnts ? 1 : 0);
    if (lvl === 4) return e;
    if (lvl > bestLvl) { bestLvl = lvl; best = e; }
  }
  return matches === 1 ? best : null;
}

export interface UnmapRef { type: number; dma: number; size: number; dir: DmaDir; cpu?: number; sgCallEnts: number; isMappingError: boolean }

/**
 * check_unmap: finds the entry, reports every mismatch and removes it. Returns the entry (its record says
 * what the mapping was) or null when the driver frees something it never mapped.
 */
export function debugCheckUnmap(k: Kernel, dev: Device, dd: DevDma, ref: UnmapRef, fn: string): DmaEntry | null {
  const entry = ref.isMappingError ? null : findExact(dd, ref.dma, ref.size, ref.type, ref.dir, ref.sgCallEnts);
  if (!entry) {
    if (!dmaState(k).opts.debug) return null;
    if (ref.isMappingError) {
      errPrintk(k, dev, dd, 'mapping-error-unchecked', 'error', 'device driver tries to free an invalid DMA memory address',
        { fn, hint: `${fn} was given DMA_MAPPING_ERROR: the driver did not check dma_mapping_error() after mapping` });
      return null;
    }
    const when = dd.freed.get(ref.dma) ?? dd.freedOld.get(ref.dma);
    errPrintk(k, dev, dd, when !== undefined ? 'double-free' : 'free-unmapped', 'error',
      `device driver tries to free DMA memory it has not allocated [device address=${addr(ref.dma)}] [size=${ref.size} bytes]`,
      { fn, dma: ref.dma, size: ref.size, ...(when !== undefined ? { mappedAtStep: when, note: 'already unmapped' } : {}) });
    return null;
  }
  unlink(k, dd, entry);
  // the usual unmap matches its map in every field: nothing to check
  if (ref.size === entry.size && ref.type === entry.type && ref.dir === entry.dir && entry.type !== DEBUG_COHERENT &&
    !(ref.sgCallEnts && ref.type === DEBUG_SG && ref.sgCallEnts !== entry.sgCallEnts)) return entry;
  if (!dmaState(k).opts.debug) return entry;
  if (ref.size !== entry.size) {
    errPrintk(k, dev, dd, 'wrong-size-free', 'error', 'device driver frees DMA memory with different size ' +
      `[device address=${addr(ref.dma)}] [map size=${entry.size} bytes] [unmap size=${ref.size} bytes]`,
      { fn, dma: ref.dma, mapSize: entry.size, unmapSize: ref.size, mappedAtStep: entry.rec.step });
  }
  if (ref.type !== entry.type) {
    errPrintk(k, dev, dd, 'wrong-free-function', 'error', 'device driver frees DMA memory with wrong function ' +
      `[device address=${addr(ref.dma)}] [size=${ref.size} bytes] [mapped as ${DEBUG_TYPE_NAMES[entry.type]}] [unmapped as ${DEBUG_TYPE_NAMES[ref.type]}]`,
      { fn, dma: ref.dma, mappedWith: entry.rec.api, mappedAtStep: entry.rec.step });
  } else if (entry.type === DEBUG_COHERENT && ref.cpu !== undefined && ref.cpu !== entry.rec.cpu) {
    errPrintk(k, dev, dd, 'wrong-cpu-address', 'error', 'device driver frees DMA memory with different CPU address ' +
      `[device address=${addr(ref.dma)}] [size=${ref.size} bytes] [cpu alloc address=${addr(entry.rec.cpu)}] [cpu free address=${addr(ref.cpu)}]`,
      { fn, dma: ref.dma });
  }
  if (ref.sgCallEnts && ref.type === DEBUG_SG && ref.sgCallEnts !== entry.sgCallEnts) {
    errPrintk(k, dev, dd, 'wrong-sg-count', 'error', 'device driver frees DMA sg list with different entry count ' +
      `[map count=${entry.sgCallEnts}] [unmap count=${ref.sgCallEnts}]`, { fn, mapCount: entry.sgCallEnts, unmapCount: ref.sgCallEnts });
  }
  if (ref.dir !== entry.dir) {
    errPrintk(k, dev, dd, 'wrong-direction', 'warning', 'device driver frees DMA memory with different direction ' +
      `[device address=${addr(ref.dma)}] [size=${ref.size} bytes] [mapped with ${DIR_DEBUG[entry.dir]}] [unmapped with ${DIR_DEBUG[ref.dir]}]`,
      { fn, dma: ref.dma });
  }
  return entry;
}

/** bucket_find_contain: a live entry of the device containing [dma, dma + size). */
function findContaining(dd: DevDma, dma: number, size: number): DmaEntry | null {
  const exact = dd.entries.get(dma);
  for (let e: DmaEntry | null = exact ?? null; e; e = e.next) if (e.size >= size) return e;
  for (const first of dd.entries.values()) {
    for (let e: DmaEntry | null = first; e; e = e.next) if (e.dma <= dma && e.dma + e.size >= dma + size) return e;
  }
  return null;
}

/** check_sync: the range must lie in a live mapping and be synced in a direction the mapping allows. */
export function debugCheckSync(k: Kernel, dev: Device, dd: DevDma, dma: number, size: number, dir: DmaDir, toCpu: boolean): void {
  if (!dmaState(k).opts.debug) return;
  const fn = toCpu ? 'dma_sync_single_for_cpu' : 'dma_sync_single_for_device';
  const entry = findContaining(dd, dma, size);
  if (!entry) {
    errPrintk(k, dev, dd, 'sync-unmapped', 'error', 'device driver tries to sync DMA memory it has not allocated ' +
      `[device address=${addr(dma)}] [size=${size} bytes]`, { fn, dma, size });
    return;
  }
  if (size > entry.size) {
    errPrintk(k, dev, dd, 'sync-out-of-range', 'error', 'device driver syncs DMA memory outside allocated range ' +
      `[device address=${addr(entry.dma)}] [allocation size=${entry.size} bytes] [sync offset+size=${size}]`, { fn, dma, size });
  }
  if (entry.dir === DMA_BIDIRECTIONAL) return;
  const names = `[mapped with ${DIR_DEBUG[entry.dir]}] [synced with ${DIR_DEBUG[dir]}]`;
  if (dir !== entry.dir) {
    errPrintk(k, dev, dd, 'sync-wrong-direction', 'warning', 'device driver syncs DMA memory with different direction ' +
      `[device address=${addr(dma)}] [size=${entry.size} bytes] ${names}`, { fn, dma });
  }
  if (toCpu && entry.dir !== DMA_FROM_DEVICE && dir !== DMA_TO_DEVICE) {
    errPrintk(k, dev, dd, 'sync-wrong-direction', 'warning', 'device driver syncs device read-only DMA memory for cpu ' +
      `[device address=${addr(dma)}] [size=${entry.size} bytes] ${names}`, { fn, dma });
  }
  if (!toCpu && entry.dir !== DMA_TO_DEVICE && dir !== DMA_FROM_DEVICE) {
    errPrintk(k, dev, dd, 'sync-wrong-direction', 'warning', 'device driver syncs device write-only DMA memory to device ' +
      `[device address=${addr(dma)}] [size=${entry.size} bytes] ${names}`, { fn, dma });
  }
}

/** The sg_mapped_ents recorded for the first entry of an sg list (get_nr_mapped_entries). */
export function debugMappedEnts(dd: DevDma, dma: number): number {
  const e = dd.entries.get(dma);
  return e ? e.sgMappedEnts : 0;
}

/** BUS_NOTIFY_UNBOUND_DRIVER: a driver leaving its device with live mappings leaks them. */
export function debugLeakCheck(k: Kernel, dev: Device, dd: DevDma): void {
  if (!dmaState(k).opts.debug || dd.live === 0) return;
  let sample: DmaEntry | null = null;
  for (const e of dd.entries.values()) { sample = e; break; }
  const e = sample!;
  errPrintk(k, dev, dd, 'leak', 'error', 'device driver has pending DMA allocations while released from device ' +
    `[count=${dd.live}] One of leaked entries details: [device address=${addr(e.dma)}] [size=${e.size} bytes] ` +
    `[mapped with ${DIR_DEBUG[e.dir]}] [mapped as ${DEBUG_TYPE_NAMES[e.type]}]`,
    { count: dd.live, dma: e.dma, size: e.size, mappedWith: e.rec.api, mappedAtStep: e.rec.step });
}

/** debug_dma_map_single: mapping memory that is not RAM. */
export function debugCheckArea(k: Kernel, dev: Device, dd: DevDma, paddr: number, len: number): void {
  if (k.mem.contains(paddr, Math.max(1, len)) || !dmaState(k).opts.debug) return;
  errPrintk(k, dev, dd, 'invalid-dma-area', 'error',
    `device driver maps memory from invalid area [addr=${addr(paddr)}] [len=${len}]`, { paddr, len });
}

/** Live entries of a device in address order (views, tests). */
export function debugEntries(dd: DevDma): DmaEntry[] {
  const out: DmaEntry[] = [];
  for (const first of dd.entries.values()) for (let e: DmaEntry | null = first; e; e = e.next) out.push(e);
  return out.sort((a, b) => a.dma - b.dma);
}

/**
 * check_sg_segment (CONFIG_DMA_API_DEBUG_SG): an input entry longer than the device's max segment size, or a
 * DMA segment that crosses its segment boundary; checked for the first `mapped` entries as the kernel does.
 */
export function debugCheckSgSegments(k: Kernel, dev: Device, dd: DevDma, sg: readonly { len: number }[], entries: readonly { dma: number; len: number }[]): void {
  for (let i = 0; i < entries.length && i < sg.length; i++) {
    if (sg[i].len > dd.maxSegSize) {
      errPrintk(k, dev, dd, 'sg-segment-too-long', 'warning',
        `mapping sg segment longer than device claims to support [len=${sg[i].len}] [max=${dd.maxSegSize}]`, { len: sg[i].len, max: dd.maxSegSize });
    }
    const start = entries[i].dma, end = start + entries[i].len - 1;
    if (dd.segBoundary !== Infinity && Math.floor(start / dd.segBoundary) !== Math.floor(end / dd.segBoundary)) {
      errPrintk(k, dev, dd, 'sg-segment-boundary', 'warning', 'mapping sg segment across boundary ' +
        `[start=${addr(start)}] [end=${addr(end)}] [boundary=${addr(dd.segBoundary - 1)}]`, { start, end });
    }
  }
}
