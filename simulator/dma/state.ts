// Shared state of the DMA layer: per-kernel options and counters, per-device DMA parameters (masks,
// segment limits, the dma-debug entries of its live mappings) and the records those entries point to.
// Everything here is plain data; the behaviour lives in the dma-iommu, dma-direct, swiotlb and dma-debug
// modules beside it.
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import type { Domain } from '../iommu/domain';
import { maxPageOrder, type CpuBuffer } from '../platform/memory';
import { ScenarioError } from '../scenario/types';
import { onBoot } from '../runner/hooks';
import type { IovaDomain } from './iova';
import { modulo } from '../iommu/arith';
import { DmaEntryTable } from './debug-table';

/** enum dma_data_direction */
export const DMA_BIDIRECTIONAL = 0;
export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
export const DMA_NONE = 3;
export type DmaDir = 0 | 1 | 2 | 3;

const DIR_ARGS: Record<string, DmaDir> = { bidirectional: 0, to_device: 1, from_device: 2, none: 3 };
/** How the dma tracepoints print a direction. */
export const DIR_TRACE = ['BIDIRECTIONAL', 'TO_DEVICE', 'FROM_DEVICE', 'NONE'] as const;
/** How dma-debug prints a direction (dir2name). */
export const DIR_DEBUG = ['DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE'] as const;

export function dirFromArg(v: unknown): DmaDir | undefined {
  return typeof v === 'string' ? DIR_ARGS[v] : undefined;
}

/** dma-debug entry types (type2name). Since 5.8 map_page and map_single are both "single". */
export const DEBUG_SINGLE = 0;
export const DEBUG_SG = 1;
export const DEBUG_COHERENT = 2;
export const DEBUG_TYPE_NAMES = ['single', 'scatter-gather', 'coherent'] as const;

/** Internal "no address" value on the hot path; the API layer turns it into DMA_MAPPING_ERROR. */
export const MAPPING_ERROR = -1;

/** A run of physically contiguous CPU pages. */
export interface PhysRange { paddr: number; len: number }

/** A live bounce slot in the swiotlb pool. */
export interface BounceSlot {
  phys: number;        // start of the slot
  bytes: number;       // bytes reserved (slot size)
  orig: number;        // the caller's buffer
  size: number;        // bytes bounced
  buf: CpuBuffer;      // the slot as a CPU buffer (named by exposure findings)
}

/**
 * One DMA API call's mapping: what the device can reach and why. dma-debug entries point at it; the
 * report's mapping annotations and the buffers' `dma` lists are built from it.
 */
export class MapRecord {
  /** swiotlb slots the mapping bounces through */
  bounces: BounceSlot[] | null = null;
  /** pages the DMA layer allocated for it (coherent / non-contiguous allocations) */
  pages: PhysRange[] | null = null;
  /** the CPU address given back for allocations */
  cpu = 0;
  /** per-entry mappings of an sg list mapped entry by entry (untrusted devices) */
  perEntry = false;
  constructor(
    readonly api: string,
    readonly dev: Device,
    readonly step: number,
    readonly domain: Domain | null,
    public iova: number,             // first mapped IOVA (granule aligned), or the bus address for dma-direct
    public iovaSize: number,         // IOVA bytes mapped
    readonly paddr: number,          // the caller's buffer (first segment)
    readonly requested: number,      // bytes asked for
    public exposed: number,          // bytes device-visible beyond what was asked (and not private padding)
  ) {}
}

/** struct dma_debug_entry: one live mapping piece as dma-debug tracks it. */
export class DmaEntry {
  /** another live entry of the same device at the same address (dma-direct maps a buffer twice) */
  next: DmaEntry | null = null;
  constructor(
    readonly rec: MapRecord,
    readonly type: number,
    readonly dma: number,
    readonly size: number,
    readonly dir: DmaDir,
    readonly paddr: number,
    readonly sgCallEnts: number,
    readonly sgMappedEnts: number,
  ) {}
}

/** Per-device DMA parameters and live entries (dev->dma_mask, dma_parms, the dma-debug hash). */
export class DevDma {
  /** dma-debug's entries by DMA address (a Map's interface, built for map/unmap churn) */
  readonly entries = new DmaEntryTable();
  live = 0;
  /** dma addresses unmapped recently (two generations), to tell a double free from a free of something never mapped */
  freed = new Map<number, number>();
  freedOld = new Map<number, number>();
  /** the domain the last "DMA API maps into a domain the device does not use" warning named */
  mismatchWarned: string | null = null;
  overflowWarned = false;
  /** the last exposure finding (step, buffer, size): the same mapping repeated within one step raises one finding */
  exposureStep = -2;
  exposurePaddr = -1;
  exposureSize = -1;
  constructor(
    public maskBits: number,
    public coherentMaskBits: number,
    public maxSegSize: number,
    /** segment boundary as a size (mask + 1); Infinity for ULONG_MAX */
    public segBoundary: number,
    readonly driver: string,
  ) {}
}

/** DMA_BIT_MASK(bits) as the largest reachable address (exact below 2^53; wider masks reach everything). */
export function maskLimit(bits: number): number {
  return bits >= 53 ? Infinity : MASK_LIMITS[bits] ?? 2 ** bits - 1;
}
const MASK_LIMITS = Array.from({ length: 53 }, (_, bits) => 2 ** bits - 1);

/** %llx of DMA_BIT_MASK(bits), exact for every width. */
export function maskHex(bits: number): string {
  return ((1n << BigInt(bits)) - 1n).toString(16);
}

export type V2SlotMode = 'off' | 'exposed' | 'warn';

export interface DmaOptions {
  fqSize: number;             // IOVA_DEFAULT_FQ_SIZE
  fqTimeout: number;          // steps (the kernel's 10 ms timer)
  swiotlbSize: number;        // bytes in the bounce pool
  v2Slot: V2SlotMode;         // the large-page v2 series' 4K-aligned 16K swiotlb slot
  forceDac: boolean;          // iommu.forcedac: skip the 32-bit-first rule for PCI
  debug: boolean;             // CONFIG_DMA_API_DEBUG checks
  debugAllErrors: boolean;    // dma-debug's show_all_errors (default: only the first error is printed)
}

export class DmaState {
  /** exposure of the last mapping call, for `expect: exposed` */
  lastExposed = 0;
  /** what the last dma-iommu / dma-direct map call produced (read by the API layer; no allocation per call) */
  outIova = 0;
  outIovaSize = 0;
  outBounce: BounceSlot | null = null;
  debugErrorsShown = 0;
  bounceInactiveWarned = false;
  /** standalone IOVA domains made by init_iova_domain steps */
  readonly iovads = new Map<string, IovaDomain>();
  nextIovad = 1;
  nextSgt = 1;
  /**
   * dma-debug's active cache lines: first cache line of each live device-writable mapping -> count. A line
   * whose count drops to 0 stays in the Map (deleting and re-adding keys makes a Map rebuild its storage);
   * `cachelineZeros` counts those, and they are swept when they outnumber the others.
   */
  readonly cachelines = new Map<number, number>();
  cachelineZeros = 0;
  /** mainline dma-iommu semantics from 4.20 (the group's default domain); 4.19 used the current domain */
  readonly usesDefaultDomain: boolean;
  constructor(readonly opts: DmaOptions, version: string | undefined) {
    this.usesDefaultDomain = !isBefore(version, 4, 20);
  }
}

function isBefore(version: string | undefined, major: number, minor: number): boolean {
  if (!version) return false;
  const [ma, mi] = version.split(/[.-]/).map(Number);
  return ma < major || (ma === major && mi < minor);
}

const DEFAULTS: DmaOptions = {
  fqSize: 256, fqTimeout: 10, swiotlbSize: 4 * 1024 * 1024, v2Slot: 'off', forceDac: false, debug: true, debugAllErrors: false,
};

/** Reads and checks this layer's `kernel.options`; a bad value is a scenario error naming it. */
export function parseDmaOptions(k: Kernel): DmaOptions {
  const o = k.cfg.options;
  const where = { file: k.platform.pos.file, line: 1, col: 1 };
  const bad = (key: string, want: string): never => {
    throw new ScenarioError(where, `kernel options ${key}: expected ${want}, got ${JSON.stringify(o[key])}`);
  };
  const int = (key: string, min: number, max: number, def: number): number => {
    const v = o[key];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(key, `an integer in ${min}..${max}`);
    return v as number;
  };
  const bool = (key: string, def: boolean): boolean => {
    const v = o[key];
    if (v === undefined) return def;
    if (typeof v !== 'boolean') bad(key, 'true or false');
    return v as boolean;
  };
  const swiotlbSize = int('swiotlb_size', 64 * 1024, 2 ** 30, DEFAULTS.swiotlbSize);
  if (2 ** Math.round(Math.log2(swiotlbSize)) !== swiotlbSize) bad('swiotlb_size', 'a power of two such as 4M');
  const maxPool = k.cfg.page_size * 2 ** maxPageOrder(k.cfg.page_size);
  if (swiotlbSize > maxPool) bad('swiotlb_size', `at most ${maxPool / 1048576}M (one buddy block of the largest order with ${k.cfg.page_size / 1024}K pages)`);
  const v2 = o.swiotlb_v2_misaligned_slot;
  let v2Slot: V2SlotMode = 'off';
  if (v2 === true || v2 === 'exposed') v2Slot = 'exposed';
  else if (v2 === 'warn') v2Slot = 'warn';
  else if (v2 !== undefined && v2 !== false) bad('swiotlb_v2_misaligned_slot', "true, false, 'exposed' or 'warn'");
  return {
    fqSize: int('flush_queue_size', 2, 1 << 20, DEFAULTS.fqSize),
    fqTimeout: int('flush_queue_timeout', 1, 1 << 30, DEFAULTS.fqTimeout),
    swiotlbSize, v2Slot,
    forceDac: bool('iommu_dma_forcedac', DEFAULTS.forceDac),
    debug: bool('dma_debug', DEFAULTS.debug),
    debugAllErrors: bool('dma_debug_all_errors', DEFAULTS.debugAllErrors),
  };
}

const KEY = 'dma';

export function dmaState(k: Kernel): DmaState {
  let s = k.ext.get(KEY) as DmaState | undefined;
  if (!s) {
    s = new DmaState(parseDmaOptions(k), k.cfg.version);
    k.ext.set(KEY, s);
  }
  return s;
}

/** The device's DMA parameters, created from its platform description on first use. */
export function devDma(dev: Device): DevDma {
  let d = dev.ext.dma as DevDma | undefined;
  if (!d) {
    const p = dev.spec.params;
    const num = (v: unknown, def: number) => (typeof v === 'number' && v > 0 ? v : def);
    // PCI devices get dma_parms from pci_device_add (64K segments, 4G boundary); others have 64K and no boundary.
    const boundary = typeof p.seg_boundary === 'number' ? p.seg_boundary + 1 : dev.spec.bus === 'pci' ? 2 ** 32 : Infinity;
    d = new DevDma(dev.spec.dma_mask, num(p.coherent_dma_mask, dev.spec.dma_mask), num(p.max_seg_size, 65536), boundary,
      typeof p.driver === 'string' ? p.driver : dev.name);
    dev.ext.dma = d;
  }
  return d;
}

/** Devices the DMA layer has state for (dma-debug sweeps, report). */
export function* dmaDevices(k: Kernel): Generator<[Device, DevDma]> {
  for (const dev of k.devices.values()) {
    const d = dev.ext.dma as DevDma | undefined;
    if (d) yield [dev, d];
  }
}

/** dev_is_untrusted: the kernel honours it for PCI devices only; the simulator for any device marked so. */
export function isUntrusted(dev: Device): boolean {
  return dev.spec.untrusted;
}

/** iova_align / iova_offset on byte values. */
export function alignUpTo(n: number, g: number): number {
  const r = modulo(n, g);
  return r === 0 ? n : n + g - r;
}

// Check this layer's kernel options when the machine boots, so a bad value stops the run before step 0.
onBoot(k => { dmaState(k); });
