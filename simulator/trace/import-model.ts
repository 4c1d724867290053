// The kernel state a trace implies: devices, groups, one domain per device attach epoch, and the live
// mappings of each domain. The map/unmap tracepoints name no domain, so each is attributed:
//  1. dma-iommu maps and unmaps in the caller's context and fires dma_map_phys / dma_unmap_phys (…sg,
//     alloc, free) right after, naming the device: iommu events from the same task and CPU whose range
//     overlaps that event's DMA address go to the device's DMA domain (the group's default domain, which
//     dma-iommu uses even when the device is attached elsewhere);
//  2. otherwise the domain of the device this task last worked on (probe, attach, DMA call);
//  3. for unmaps, a domain that holds a mapping at that IOVA;
//  4. otherwise the most recently attached driver-owned domain (a device's attach after its default
//     domain: where a driver's own iommu_map calls go), else the most recently attached domain, else an
//     "unattributed" domain.
// Every map/unmap event records which rule placed it (`via`, one of the Via codes; `via_step` names the
// DMA call for 'dma-call'), so a guess is never passed off as a fact.
import type { Finding } from '../core/events';
import { hex } from '../core/format';
import { AddrMap } from './import-addr-map';
import { IovaTree } from './import-iova-tree';
import { VIA_CODE, type StepColumns, type Via } from './import-steps';

export type { Via } from './import-steps';

export interface DomainState {
  id: string;
  index: number;                  // in TraceModel.domains
  type: string;                   // "unknown" unless deduced: DMA (explained by DMA calls), UNMANAGED (driver's own)
  devices: Set<string>;
  live: IovaTree;
  defaultOf: number | null;       // group whose default domain this is (first attach after add_device_to_group)
  preTrace: boolean;              // attached before the trace started (first seen through later events)
  line: number;                   // line that created it
  align: number;                  // largest power of two (<= 64K) dividing every iova, paddr and size mapped
  maps: number;                   // map events applied
}

export interface DeviceState {
  name: string;
  index: number;                  // in TraceModel.deviceList
  group: number | null;
  domain: DomainState | null;
  driver?: string;
  line: number;
  addedInTrace: boolean;
}

export interface GroupState { id: number; devices: Set<string>; defaultDomain: DomainState | null; domain: DomainState | null }

/** The DMA call that explains pending IOMMU events of its context (one reusable record per import). */
export interface DmaBinding {
  dev: DeviceState;
  name: string;
  step: number;
  kind: 'map' | 'unmap' | 'any';
  /** IOVA range the call names; `starts`/`lengths` instead for scatterlists, `all` when it names none */
  lo: number;
  hi: number;
  starts: number[] | null;
  lengths: number[] | null;
  all: boolean;
  requested: number | undefined;
}

export interface IommuOp {
  kind: 'map' | 'unmap';
  line: number;
  pid: number;
  step: number;                   // the event's step, whose placement the model fills in
  iova: number;
  size: number;
  paddr: number;                  // map only
  unmapped: number;               // unmap only
}

/** One context's pending ops: ops[0, n) (the array keeps its room from one event to the next). */
interface OpQueue { ops: IommuOp[]; n: number }

const MAX_PENDING_PER_CONTEXT = 4096;
const MAX_GRANULE = 65536;
const MIN_GRANULE = 4096;

function alignCap(x: number, cap: number): number {
  let a = cap;
  while (a > 1 && x % a !== 0) a /= 2;
  return a;
}

export class TraceModel {
  readonly devices = new Map<string, DeviceState>();
  readonly deviceList: DeviceState[] = [];
  readonly groups = new Map<number, GroupState>();
  readonly domains: DomainState[] = [];
  readonly findings: Finding[] = [];
  private taskDevice = new Map<number, DeviceState>();
  private notedPid = -1;
  private lastDevice: DeviceState | null = null;
  private lastCtx = -1;
  private lastQueue: OpQueue | undefined;
  private notedDevice: DeviceState | null = null;
  private lastAttached: DomainState | null = null;
  private lastDriverOwned: DomainState | null = null;
  private unattributed: DomainState | null = null;
  /** index of the domain that last mapped each IOVA */
  private lastMapAt = new AddrMap();
  private pending = new Map<number, OpQueue>();
  private pool: IommuOp[] = [];
  /** contexts with a non-empty queue */
  private waiting = 0;
  private attachBatch: { group: number; domain: DomainState; devices: Set<string> } | null = null;

  constructor(private readonly steps: StepColumns) {}

  static context(pid: number, cpu: number): number {
    return pid * 65536 + cpu;
  }

  device(name: string, line: number): DeviceState {
    const last = this.lastDevice;
    if (last !== null && last.name === name) return last;
    let d = this.devices.get(name);
    if (!d) {
      d = { name, index: this.deviceList.length, group: null, domain: null, line, addedInTrace: false };
      this.devices.set(name, d);
      this.deviceList.push(d);
    }
    this.lastDevice = d;
    return d;
  }

  /** The context's queue (the last one asked for is kept at hand: a map and its DMA call come in a row). */
  private queueOf(ctx: number, create: boolean): OpQueue | undefined {
    if (ctx === this.lastCtx) return this.lastQueue;
    let q = this.pending.get(ctx);
    if (!q) {
      if (!create) return undefined;
      this.pending.set(ctx, (q = { ops: [], n: 0 }));
    }
    this.lastCtx = ctx;
    this.lastQueue = q;
    return q;
  }

  private group(id: number): GroupState {
    let g = this.groups.get(id);
    if (!g) {
      g = { id, devices: new Set(), defaultDomain: null, domain: null };
      this.groups.set(id, g);
    }
    return g;
  }

  private newDomain(line: number, preTrace: boolean, id = `d${this.domains.length + 1 - (this.unattributed ? 1 : 0)}`): DomainState {
    const d: DomainState = {
      id, index: this.domains.length, type: 'unknown', devices: new Set(), live: new IovaTree(),
      defaultOf: null, preTrace, line, align: MAX_GRANULE, maps: 0,
    };
    this.domains.push(d);
    return d;
  }

  /** Work by this task is attributed to this device from now on. */
  noteTask(pid: number, dev: DeviceState): void {
    if (pid === this.notedPid && dev === this.notedDevice) return;      // the same task and device again
    this.taskDevice.set(pid, dev);
    this.notedPid = pid;
    this.notedDevice = dev;
  }

  /** Any event other than attach_device_to_domain ends a group-wide attach. */
  endAttachBatch(): void {
    this.attachBatch = null;
  }

  addToGroup(gid: number, dev: DeviceState): void {
    const g = this.group(gid);
    if (dev.group !== null && dev.group !== gid) this.groups.get(dev.group)?.devices.delete(dev.name);
    dev.group = gid;
    dev.addedInTrace = true;
    g.devices.add(dev.name);
  }

  /** The device is released (hot-unplug, driver unbind of the bus device): it leaves group and domain. */
  removeFromGroup(gid: number, dev: DeviceState): void {
    this.group(gid).devices.delete(dev.name);
    if (dev.group === gid) dev.group = null;
    this.detach(dev);
    dev.addedInTrace = false;
  }

  /**
   * A new attach epoch. The group is the unit of attachment: a device probed into a group that already
   * has a domain joins it, and a group moving to a new domain attaches its devices one after another, so
   * consecutive attaches of different devices of one group share the domain.
   */
  attach(dev: DeviceState, line: number): DomainState {
    const g = dev.group !== null ? this.group(dev.group) : null;
    const b = this.attachBatch;
    let d: DomainState;
    if (g && b && b.group === g.id && !b.devices.has(dev.name)) d = b.domain;
    else if (g?.domain && dev.domain === null && dev.addedInTrace) d = g.domain;
    else {
      d = this.newDomain(line, false);
      this.attachBatch = g ? { group: g.id, domain: d, devices: new Set() } : null;
    }
    this.attachBatch?.devices.add(dev.name);
    const first = dev.domain === null;
    this.move(dev, d);
    if (g) {
      g.domain = d;
      // The first attach after add_device_to_group in the trace is the default domain (probe path).
      if (!g.defaultDomain && first && dev.addedInTrace) { g.defaultDomain = d; d.defaultOf = g.id; }
    }
    this.lastAttached = d;
    if (g?.defaultDomain && g.defaultDomain !== d) this.lastDriverOwned = d;
    return d;
  }

  /** detach_device_from_domain (kernels that still have it). */
  detach(dev: DeviceState): void {
    dev.domain?.devices.delete(dev.name);
    dev.domain = null;
  }

  private move(dev: DeviceState, d: DomainState): void {
    if (dev.domain && dev.domain !== d) dev.domain.devices.delete(dev.name);
    dev.domain = d;
    d.devices.add(dev.name);
  }

  /** The device's current domain; one attached before the trace began if none was seen. */
  domainOf(dev: DeviceState): DomainState {
    if (dev.domain) return dev.domain;
    const g = dev.group !== null ? this.group(dev.group) : null;
    const d = g?.domain ?? this.newDomain(dev.line, true);
    this.move(dev, d);
    if (g) g.domain = d;
    return d;
  }

  /** dma-iommu maps into the group's default domain, not necessarily the one the device is attached to. */
  dmaDomainOf(dev: DeviceState): DomainState {
    const g = dev.group !== null ? this.groups.get(dev.group) : undefined;
    return g?.defaultDomain ?? this.domainOf(dev);
  }

  /** A pending map/unmap record; records are recycled once applied (a big trace has one per event). */
  op(kind: 'map' | 'unmap', line: number, pid: number, step: number, iova: number, size: number, paddr: number, unmapped: number): IommuOp {
    const o = this.pool.pop();
    if (!o) return { kind, line, pid, step, iova, size, paddr, unmapped };
    o.kind = kind; o.line = line; o.pid = pid; o.step = step;
    o.iova = iova; o.size = size; o.paddr = paddr; o.unmapped = unmapped;
    return o;
  }

  private recycle(o: IommuOp): void {
    if (this.pool.length < 4096) this.pool.push(o);
  }

  /** Queues a map/unmap until its context shows which device it was for. */
  queue(op: IommuOp, ctx: number): void {
    const q = this.queueOf(ctx, true)!;
    if (q.n === 0) this.waiting++;
    if (q.n < q.ops.length) q.ops[q.n] = op;
    else q.ops.push(op);
    q.n++;
    // a context that never explains itself: place its older half by the fallback rules (amortised O(1))
    if (q.n > MAX_PENDING_PER_CONTEXT) {
      const half = q.n >> 1;
      for (let i = 0; i < half; i++) this.applyFallback(q.ops[i]);
      q.ops.copyWithin(0, half, q.n);
      q.n -= half;
    }
  }

  /**
   * A dma event (or any other event) from this context: pending ops that match it are bound to its
   * device, the rest placed by the fallback rules, in trace order.
   */
  settle(ctx: number, bind: DmaBinding | null = null): void {
    if (this.waiting === 0) return;
    const q = this.queueOf(ctx, false);
    if (!q || q.n === 0) return;
    this.waiting--;
    for (let i = 0; i < q.n; i++) {
      const op = q.ops[i];
      if (bind && (bind.kind === 'any' || bind.kind === op.kind) && bindingCovers(bind, op)) {
        const d = this.dmaDomainOf(bind.dev);
        if (d.type === 'unknown') d.type = 'DMA';
        this.steps.viaStep[op.step] = bind.step;
        this.steps.viaDevice[op.step] = bind.dev.index + 1;
        this.checkActiveDomain(bind.dev, d, op, bind.name);
        this.apply(op, d, 'dma-call', bind);          // recycles op
      } else this.applyFallback(op);
    }
    q.n = 0;                      // the context's queue is kept, empty, for its next events
  }

  /** End of trace: everything still pending, in line order. */
  settleAll(): void {
    const all: IommuOp[] = [];
    for (const q of this.pending.values()) for (let i = 0; i < q.n; i++) all.push(q.ops[i]);
    this.pending.clear();
    this.lastCtx = -1;
    this.lastQueue = undefined;
    this.waiting = 0;
    all.sort((a, b) => a.line - b.line);
    for (const op of all) this.applyFallback(op);
  }

  private applyFallback(op: IommuOp): void {
    const td = this.taskDevice.get(op.pid);
    if (td) this.steps.viaDevice[op.step] = td.index + 1;
    if (op.kind === 'unmap') {
      if (td) {
        const d = this.domainOf(td);
        if (d.live.contains(op.iova)) return this.apply(op, d, 'task-device');
      }
      const at = this.lastMapAt.get(op.iova);
      const owner = at === undefined ? undefined : this.domains[at];
      if (owner?.live.contains(op.iova)) return this.apply(op, owner, 'iova-owner');
      if (this.lastDriverOwned?.live.contains(op.iova)) return this.apply(op, this.lastDriverOwned, 'driver-owned');
      if (this.lastAttached?.live.contains(op.iova)) return this.apply(op, this.lastAttached, 'last-attached');
    }
    if (td) return this.apply(op, this.domainOf(td), 'task-device');
    const owned = this.lastDriverOwned;
    if (owned && owned.devices.size) return this.apply(op, owned, 'driver-owned');
    if (this.lastAttached) return this.apply(op, this.lastAttached, 'last-attached');
    this.unattributed ??= this.newDomain(op.line, true, 'unattributed');
    this.apply(op, this.unattributed, 'unattributed');
  }

  private apply(op: IommuOp, d: DomainState, via: Via, bind?: DmaBinding): void {
    this.steps.domain[op.step] = d.index + 1;
    this.steps.via[op.step] = VIA_CODE[via];
    if (op.kind === 'unmap') this.applyUnmap(op, d);
    else {
      // a driver's own iommu_map into a domain it attached in place of the default one
      if (!bind && d.type === 'unknown' && d.defaultOf === null && this.isDriverOwned(d)) d.type = 'UNMANAGED';
      this.applyMap(op, d, bind);
    }
    this.recycle(op);
  }

  private isDriverOwned(d: DomainState): boolean {
    for (const name of d.devices) {
      const dev = this.devices.get(name);
      const g = dev && dev.group !== null ? this.groups.get(dev.group) : undefined;
      if (g?.defaultDomain && g.defaultDomain !== d) return true;
    }
    return false;
  }

  private applyMap(op: IommuOp, d: DomainState, bind?: DmaBinding): void {
    const end = op.iova + op.size;
    if (d.live.overlaps(op.iova, end)) {
      const clash = d.live.overlapping(op.iova, end)[0];
      const replaced = d.live.removeRange(op.iova, end);
      this.steps.replaced.set(op.step, replaced);
      // sites are known once the trace is read: buildReport fills them in
      this.findings.push({
        code: 'trace-map-overlap', severity: 'warning', step: op.step, site: null,
        message: `map at ${hex(op.iova)} (${op.size} bytes) overlaps ${replaced} bytes still mapped in ${d.id} ` +
          `(mapped at line ${clash.line}): the kernel refuses to map over a live IOVA, so an unmap was lost or ` +
          `the mappings belong to different domains`,
        data: { line: op.line, domain: d.id, iova: hex(op.iova) },
      });
    }
    d.live.insert(op.iova, end, op.paddr, op.line, bind ? bind.step : -1, bind ? bind.dev.name : null, bind?.requested);
    this.lastMapAt.set(op.iova, d.index);
    d.maps++;
    // no IOMMU maps below 4K: once the bound reaches 4K it cannot move
    if (d.align > MIN_GRANULE) {
      d.align = Math.min(d.align, alignCap(op.iova, d.align), alignCap(op.paddr, d.align), alignCap(op.size, d.align));
    }
  }

  /**
   * unmapped_size is what the IOMMU removed: less than size when it stopped at a hole, more when a larger
   * page covered the range (the whole naturally aligned block goes).
   */
  private applyUnmap(op: IommuOp, d: DomainState): void {
    let lo = op.iova;
    let hi = op.iova + op.unmapped;
    if (op.unmapped > op.size && isPow2(op.unmapped)) {
      lo = op.iova - (op.iova % op.unmapped);
      hi = lo + op.unmapped;
    }
    const removed = hi > lo ? d.live.removeRange(lo, hi) : 0;
    if (removed < hi - lo) this.steps.untracked.set(op.step, hi - lo - removed);    // mapped before the trace, or lost
  }

  private checkActiveDomain(dev: DeviceState, d: DomainState, op: IommuOp, name: string): void {
    if (op.kind !== 'map' || !dev.domain || dev.domain === d) return;
    this.findings.push({
      code: 'trace-dma-inactive-domain', severity: 'warning', step: op.step, site: null,
      message: `${name} for ${dev.name} mapped ${hex(op.iova)} into default domain ${d.id}, but ${dev.name} is ` +
        `attached to ${dev.domain.id}: dma-iommu uses the group's default domain, so the device faults on this address`,
      data: { line: op.line, dev: dev.name, domain: d.id, attached: dev.domain.id },
    });
  }
}

function isPow2(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

function bindingCovers(b: DmaBinding, op: IommuOp): boolean {
  if (b.all) return true;
  const lo = op.iova;
  const hi = op.iova + Math.max(op.size, 1);
  const starts = b.starts;
  if (starts === null) return b.lo < hi && lo < Math.max(b.hi, b.lo + 1);
  for (let i = 0; i < starts.length; i++) {
    const a = starts[i];
    const z = a + b.lengths![i];
    if (a < hi && lo < Math.max(z, a + 1)) return true;
  }
  return false;
}
