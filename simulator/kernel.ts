// The simulated machine: platform, IOMMU core state and the helpers every layer uses to report what it
// did (events, printk, tracepoints, findings, faults). Layers (IOMMU core, DMA layer, driver models) keep
// their own state in `ext` maps keyed by their name.
import { EventBus, Finding, Severity, SimEvent } from './core/events';
import { hex } from './core/format';
import type { KernelConfig, PlatformSpec } from './scenario/types';
import { PhysicalMemory } from './platform/memory';
import { Domain } from './iommu/domain';
import { Device, Group } from './iommu/device';
import { IommuInstance, IommuModel } from './iommu/instance';
import { Iotlb } from './iommu/iotlb';
import { chargePageTable } from './limits';

/**
 * Builds one IOMMU instance's model. `k` is the kernel being constructed (its platform memory exists, its
 * IOMMUs and devices do not yet): models that log register writes or raise findings keep it.
 */
export type ModelFactory = (name: string, params: Record<string, unknown>, kernel: KernelConfig, k: Kernel) => IommuModel;
const modelFactories = new Map<string, ModelFactory>();
export function registerModel(model: string, f: ModelFactory): void { modelFactories.set(model, f); }
export function hasModel(model: string): boolean { return modelFactories.has(model); }

export interface FaultRecord {
  step: number; dev: string; stream: number; iova: number; kind: string; message: string;
  access: 'read' | 'write'; pasid?: number; iommu: string;
}

export interface Scanout { dev: Device; paddr: number; size: number; faulted: boolean; step: number }

/** Thrown by a layer when the simulated kernel crashes: ends the run with { oops }. */
export class KernelOops extends Error {}

export class Kernel {
  readonly bus = new EventBus();
  readonly mem: PhysicalMemory;
  readonly iommus = new Map<string, IommuInstance>();
  readonly devices = new Map<string, Device>();
  readonly groups: Group[] = [];
  readonly domains = new Map<string, Domain>();
  readonly faults: FaultRecord[] = [];
  readonly findings: Finding[] = [];
  readonly scanouts: Scanout[] = [];
  readonly ext = new Map<string, unknown>();
  /** index of the step running now and its site, stamped on findings */
  step = -1;
  site: string | null = null;
  private nextDomain = 1;
  private traceSeq = 0;
  /** tracepoint lines in order, for --trace and the output channel */
  readonly trace: Array<{ step: number; name: string; text: string; seq: number }> = [];
  /** printk lines in order */
  readonly dmesg: Array<{ step: number; level: string; text: string }> = [];

  constructor(readonly cfg: KernelConfig, readonly platform: PlatformSpec) {
    this.mem = new PhysicalMemory(platform.memory.base, platform.memory.size, cfg.page_size);
    for (const spec of platform.iommus) {
      const factory = modelFactories.get(spec.model);
      if (!factory) throw new Error(`no IOMMU model '${spec.model}'`);
      const model = factory(spec.name, spec.params as Record<string, unknown>, cfg, this);
      this.iommus.set(spec.name, new IommuInstance(spec.name, model, new Iotlb(spec.name, model.config.iotlbEntries, this.bus)));
    }
    for (const spec of platform.devices) {
      const names = spec.iommus?.length ? spec.iommus : spec.iommu ? [spec.iommu] : [];
      this.devices.set(spec.name, new Device(spec, names.map(n => this.iommus.get(n)!)));
    }
  }

  newDomainId(): string {
    return `d${this.nextDomain++}`;
  }

  emit(e: SimEvent): void {
    if (this.bus.active) this.bus.emit(e);
  }

  api(name: string, args: Record<string, unknown>, result: unknown): void {
    if (this.bus.active) this.bus.emit({ kind: 'api', name, args, result, site: this.site });
  }

  /**
   * Whether tracepoints are recorded: like the kernel's static keys, off unless someone traces. Callers
   * test `k.tracing` before formatting a body, so a run nobody traces pays nothing for it.
   */
  traceEnabled = true;
  get tracing(): boolean {
    return this.traceEnabled || this.bus.active;
  }

  tracepoint(name: string, text: string): void {
    const seq = ++this.traceSeq;
    if (this.traceEnabled) this.trace.push({ step: this.step, name, text, seq });
    if (this.bus.active) this.bus.emit({ kind: 'tracepoint', name, text });
  }

  printk(level: 'info' | 'warn' | 'err' | 'debug', text: string, dev?: string): void {
    this.dmesg.push({ step: this.step, level, text: dev ? `${dev}: ${text}` : text });
    if (this.bus.active) this.bus.emit({ kind: 'printk', level, dev, text });
  }

  finding(code: string, severity: Severity, message: string, data?: Record<string, unknown>): Finding {
    const f: Finding = { code, severity, message, step: this.step, site: this.site, ...(data ? { data } : {}) };
    this.findings.push(f);
    if (this.bus.active) this.bus.emit({ kind: 'finding', finding: f });
    return f;
  }

  recordFault(f: Omit<FaultRecord, 'step'>, flags: number): void {
    this.faults.push({ ...f, step: this.step });
    if (this.bus.active) {
      this.bus.emit({ kind: 'fault', dev: f.dev, stream: f.stream, iommu: f.iommu, iova: f.iova, access: f.access,
        fault: f.kind as 'translation', pasid: f.pasid, message: f.message, flags });
    }
  }

  oops(message: string): never {
    this.printk('err', message);
    if (this.bus.active) this.bus.emit({ kind: 'oops', message });
    throw new KernelOops(message);
  }

  device(name: string): Device | undefined {
    return this.devices.get(name);
  }

  /** Physical memory shared by page tables: allocator callbacks for io-pgtable. */
  tableAllocator(owner: string) {
    return {
      alloc: (bytes: number) => {
        const order = Math.max(0, Math.ceil(Math.log2(Math.max(bytes, this.cfg.page_size) / this.cfg.page_size)));
        chargePageTable(this, bytes);
        const buf = this.mem.allocPages(order, 'pgtable', owner, false);
        if (!buf) chargePageTable(this, -bytes);
        return buf ? buf.paddr : null;
      },
      free: (paddr: number, bytes: number) => {
        chargePageTable(this, -bytes);
        const order = Math.max(0, Math.ceil(Math.log2(Math.max(bytes, this.cfg.page_size) / this.cfg.page_size)));
        this.mem.buddy.release(paddr / this.cfg.page_size, order);
      },
    };
  }

  describeAddr(paddr: number): string {
    const b = this.mem.bufferContaining(paddr);
    return b ? `${hex(paddr)} (${b.id})` : hex(paddr);
  }
}
