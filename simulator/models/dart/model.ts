// The apple-dart driver on one DART instance: probe (lock check, reset, the probe line), default-domain policy
// for DARTs whose page size exceeds PAGE_SIZE (mainline forces bypass; the unmerged large-page series does
// not), domain finalisation, attach (TTBR/TCR programming on every DART of the device), TLB invalidation by
// stream, and the fault IRQ line. `downstream` selects the Asahi driver's handling of locked DARTs.
import { hexPad } from '../../core/format';
import type { Kernel } from '../../kernel';
import type { KernelConfig } from '../../scenario/types';
import type { Device, Group } from '../../iommu/device';
import { Domain, IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_IDENTITY, isDmaApi, isPaging } from '../../iommu/domain';
import type { FaultInfo, IommuInstance, IommuModel, ModelConfig, Refusal, RegisterValue } from '../../iommu/instance';
import type { Iotlb } from '../../iommu/iotlb';
import type { PteFormat } from '../../iommu/pte-format';
import { defaultDmaDomain } from '../lpae-common';
import { DartFormat } from './format';
import { DartHardware, DartParams } from './hw';
import { dartFaultCode, dartFaultLine } from './faults';
import { dartDeviceGroup, streamMaps } from './groups';
import type { DartHw } from './regs';

export interface DartOptions extends DartParams {
  downstream: boolean;
  iotlbEntries: number;
}

/**
 * Streams of each DART a paging domain has been attached through (apple_dart_domain.stream_maps), and the
 * same as arrays in that order, which every flush walks (rebuilt when a stream is added).
 */
interface DomainStreams {
  byDart: Map<DartModel, Set<number>>;
  flush: Array<{ dart: DartModel; sids: number[] }>;
}
const domainStreams = new WeakMap<Domain, DomainStreams>();
/** The DARTs a domain was finalised for: devices behind other DARTs cannot join it (-EINVAL). */
const domainDarts = new WeakMap<Domain, IommuInstance[]>();

export function dartOf(inst: IommuInstance): DartModel | null {
  return inst.model instanceof DartModel ? inst.model : null;
}

export class DartModel implements IommuModel {
  readonly driver = 'apple-dart';
  readonly config: ModelConfig;
  readonly hardware: DartHardware;
  /** downstream, locked: the L1 table the firmware programmed, reused because TTBR cannot be written */
  firmwareL1: number | null = null;

  constructor(readonly model: string, readonly name: string, readonly hw: DartHw, readonly p: DartOptions, private readonly k: Kernel) {
    this.config = { pgsizeBitmap: [p.pgsize], ias: p.ias, oas: p.oas, bypass: p.bypass, pasidBits: 0, iotlbEntries: p.iotlbEntries, streams: p.streams };
    this.hardware = new DartHardware(hw, p, text => {
      if (k.bus.active) k.emit({ kind: 'printk', level: 'debug', dev: name, text });
    }, () => k.bus.active);
  }

  private get inst(): IommuInstance | undefined {
    return this.k.iommus.get(this.name);
  }

  /** Streams of this DART that devices use. */
  private usedStreams(): number[] {
    const inst = this.inst;
    const out: number[] = [];
    for (const dev of this.k.devices.values()) for (const m of streamMaps(dev)) if (m.inst === inst) out.push(...m.sids);
    return out;
  }

  registers(): RegisterValue[] {
    return this.hardware.registers(this.usedStreams());
  }

  /** mainline: PAGE_SIZE smaller than the DART page forces bypass; the large-page series removed that rule. */
  forcesBypass(cfg: KernelConfig): boolean {
    return this.p.pgsize > cfg.page_size && !cfg.large_iommu_pages;
  }

  private lockedDownstream(): boolean {
    return this.p.locked && this.p.downstream;
  }

  probe(cfg: KernelConfig): { log: string[]; refusal?: Refusal } {
    const { pgsize, streams, bypass } = this.p;
    if (this.p.locked && !this.p.downstream) {
      return { log: [`DART is locked down until reboot: ${hexPad(this.hardware.lockValue, 8)}`], refusal: { errno: 'EINVAL', message: '' } };
    }
    if (this.p.locked) this.adoptFirmwareSetup();
    else this.hardware.reset();
    const head = `DART [pagesize ${pgsize.toString(16)}, ${streams} streams, bypass support: ${+bypass}`;
    if (this.p.downstream) {
      return { log: [`${head}, bypass forced: ${+(pgsize > cfg.page_size)}, locked: ${+this.p.locked}, AS ${this.p.ias} -> ${this.p.oas}] initialized`] };
    }
    // The v2 large-page series dropped "bypass forced" from the line (its patch 8/8).
    if (cfg.large_iommu_pages) return { log: [`${head}] initialized`] };
    return { log: [`${head}, bypass forced: ${+(pgsize > cfg.page_size)}] initialized`] };
  }

  /** The firmware left TTBR0 and TCR programmed for its streams; a locked DART keeps them. */
  private adoptFirmwareSetup(): void {
    const l1 = this.k.tableAllocator(`firmware L1 table of ${this.name}`).alloc(this.p.pgsize);
    if (l1 === null) return;
    this.firmwareL1 = l1;
    for (const sid of new Set(this.usedStreams())) {
      this.hardware.setTtbr(sid, 0, l1);
      this.hardware.setTcr(sid, this.hw.tcrEnabled);
    }
  }

  deviceGroup(dev: Device, groups: readonly Group[]): Group | 'new' | Refusal {
    const darts = dev.iommus.map(dartOf);
    // of_xlate: every DART of a device must share the page size (and, since the 4-level series, the input size).
    if (darts.some(d => !d || d.p.pgsize !== this.p.pgsize || d.p.ias !== this.p.ias)) return { errno: 'EINVAL', message: '' };
    for (const m of streamMaps(dev)) {
      const bad = m.sids.find(s => s >= m.inst.model.config.streams);
      if (bad !== undefined) return { errno: 'EINVAL', message: `stream ${bad} is beyond the ${m.inst.model.config.streams} streams of ${m.inst.name}` };
    }
    return dartDeviceGroup(dev, groups);
  }

  private dartsOf(dev: Device): DartModel[] {
    return dev.iommus.map(dartOf).filter((d): d is DartModel => d !== null);
  }

  defaultDomainType(dev: Device, cfg: KernelConfig): number | Refusal | null {
    const darts = this.dartsOf(dev);
    const supportsBypass = darts.every(d => d.p.bypass);
    const locked = darts.some(d => d.lockedDownstream());
    if (this.forcesBypass(cfg)) {
      const page = `DART page size ${this.p.pgsize / 1024}K exceeds PAGE_SIZE ${cfg.page_size / 1024}K`;
      if (!supportsBypass || locked) {
        this.k.finding('pagesize-mismatch', 'error',
          `${page}: apple-dart forces an identity default domain for ${dev.name}, but ${locked ? `${this.name} is locked` : 'its DART cannot bypass translation'}, so the default domain fails to attach (-EINVAL) and ${dev.name} has no usable IOMMU setup`,
          { dev: dev.name, iommu: this.name, pgsize: this.p.pgsize, page_size: cfg.page_size });
        return { errno: 'EINVAL', message: '' };
      }
      this.k.finding('pagesize-mismatch', 'warning',
        `${page}: apple-dart forces bypass, so ${dev.name} gets an identity domain: its DMA is neither translated nor isolated`,
        { dev: dev.name, iommu: this.name, pgsize: this.p.pgsize, page_size: cfg.page_size });
      return IOMMU_DOMAIN_IDENTITY;
    }
    if (!supportsBypass || locked) return defaultDmaDomain(dev, cfg, 'dma');
    return defaultDmaDomain(dev, cfg);
  }

  createFormat(_type: number, cfg: KernelConfig): PteFormat | Refusal {
    if (this.forcesBypass(cfg)) {
      this.k.finding('pagesize-mismatch', 'error',
        `${this.name}: a paging domain with ${this.p.pgsize / 1024}K DART pages cannot be finalized on a ${cfg.page_size / 1024}K PAGE_SIZE kernel (-EINVAL); only identity domains work`,
        { iommu: this.name, pgsize: this.p.pgsize, page_size: cfg.page_size });
      return { errno: 'EINVAL', message: '' };
    }
    try {
      return new DartFormat({ kind: this.hw.pte, pgsize: this.p.pgsize, ias: this.p.ias, oas: this.p.oas, ttbr: this.hw.ttbrEnc });
    } catch {
      return { errno: 'ENOMEM', message: '' };       // alloc_io_pgtable_ops returned NULL
    }
  }

  attachCheck(d: Domain, dev: Device, cfg: KernelConfig): Refusal | null {
    const darts = this.dartsOf(dev);
    const locked = darts.some(x => x.lockedDownstream());
    if (d.type === IOMMU_DOMAIN_IDENTITY) return darts.every(x => x.p.bypass) && !locked ? null : { errno: 'EINVAL', message: '' };
    if (d.type === IOMMU_DOMAIN_BLOCKED) return locked ? { errno: 'EINVAL', message: '' } : null;
    if (!isPaging(d.type)) return { errno: 'EINVAL', message: '' };
    if (this.forcesBypass(cfg)) return { errno: 'EINVAL', message: '' };
    if (cfg.large_iommu_pages) {
      // The series' iommu_check_page_size(): only DMA-API domains (__IOMMU_DOMAIN_LP) accept granule > PAGE_SIZE.
      d.lp = isDmaApi(d.type);
      if (!d.lp && d.granule > cfg.page_size) {
        this.k.printk('warn', 'IOMMU page size cannot represent CPU pages.');
        this.k.finding('pagesize-mismatch', 'error',
          `${d.typeName} domain ${d.id} has ${d.granule / 1024}K pages but PAGE_SIZE is ${cfg.page_size / 1024}K: only DMA domains may use a larger IOMMU granule (-EFAULT)`,
          { dev: dev.name, domain: d.id, granule: d.granule, page_size: cfg.page_size });
        return { errno: 'EFAULT', message: '' };
      }
    }
    const finalized = domainDarts.get(d);
    if (finalized && (finalized.length !== dev.iommus.length || finalized.some((x, i) => x !== dev.iommus[i]))) {
      return { errno: 'EINVAL', message: '' };      // apple_dart_mod_streams: the domain belongs to other DARTs
    }
    if (locked && streamMaps(dev)[0].sids.length > 1) {
      this.k.printk('warn', `WARNING: ${dev.name}: a locked DART can only have a single stream bound`);
    }
    if (!finalized) domainDarts.set(d, dev.iommus.slice());
    return null;
  }

  onAttach(d: Domain, dev: Device): void {
    for (const m of streamMaps(dev)) {
      const dart = dartOf(m.inst);
      if (!dart) continue;
      if (d.type === IOMMU_DOMAIN_IDENTITY) for (const sid of m.sids) dart.hardware.setTcr(sid, dart.hw.tcrBypass);
      else if (!d.pgtable) for (const sid of m.sids) dart.hardware.setTcr(sid, 0);
      else dart.setupTranslation(d, m.sids);
    }
  }

  /** apple_dart_setup_translation (or, locked downstream, the firmware-TTBR variant). */
  private setupTranslation(d: Domain, sids: number[]): void {
    let streams = domainStreams.get(d);
    if (!streams) domainStreams.set(d, streams = { byDart: new Map(), flush: [] });
    const mine = streams.byDart.get(this) ?? new Set<number>();
    streams.byDart.set(this, mine);
    for (const sid of sids) mine.add(sid);
    streams.flush = [...streams.byDart].map(([dart, set]) => ({ dart, sids: [...set] }));
    const pt = d.pgtable!;
    const fmt = pt.fmt as DartFormat;
    if (this.lockedDownstream()) {
      this.syncLocked(d);
      this.hardware.invalidate(sids);
      return;
    }
    for (const sid of sids) {
      for (let i = 0; i < this.hw.ttbrCount; i++) {
        const table = i < fmt.nTtbrs ? pt.root.children?.[i] : undefined;
        if (table) this.hardware.setTtbr(sid, i, table.paddr);
        else this.hardware.clearTtbr(sid, i);
      }
      this.hardware.setTcr(sid, this.hw.tcrEnabled | (fmt.tableLevels === 3 ? this.hw.tcr4Level : 0));
    }
    this.hardware.invalidate(sids);
  }

  /** apple_dart_hw_sync_locked: the kernel's L1 table is copied into the firmware's before each flush. */
  private syncLocked(d: Domain): void {
    const l1 = d.pgtable?.root.children?.[0];
    if (this.firmwareL1 === null || !l1 || !this.k.bus.active) return;
    this.k.emit({ kind: 'printk', level: 'debug', dev: this.name,
      text: `copy L1 table ${'0x' + l1.paddr.toString(16)} of ${d.id} into the firmware's L1 table 0x${this.firmwareL1.toString(16)} (TTBR is locked)` });
  }

  private flushDomain(iotlb: Iotlb, d: Domain, reason: string): void {
    const streams = domainStreams.get(d);
    if (streams) {
      for (const { dart, sids } of streams.flush) {
        if (dart.lockedDownstream()) dart.syncLocked(d);
        dart.hardware.invalidate(sids);
      }
    }
    iotlb.invalidateDomain(d.id, reason);       // a DART flushes whole streams, never a range
  }

  flushRange(iotlb: Iotlb, d: Domain, _iova: number, _size: number, reason: string): void {
    this.flushDomain(iotlb, d, reason);
  }

  flushAll(iotlb: Iotlb, d: Domain, reason: string): void {
    this.flushDomain(iotlb, d, reason);
  }

  faultMessage(f: FaultInfo): string {
    const code = dartFaultCode(f, this.hw);
    const status = this.hardware.latchFault(f.stream, code, f.iova);
    return dartFaultLine(this.hw, status, code, f.iova);
  }
}
