// Every observable thing the simulated kernel does is an event. Views, traces, diagnostics and reports
// consume events, never simulator internals. Emitters check `bus.active` before building an event so a
// hot loop with nobody listening pays nothing.

export type Severity = 'error' | 'warning' | 'info';

/** A kernel API call made by a step or by a driver model on its behalf. */
export interface ApiCallEvent {
  kind: 'api';
  name: string;                       // kernel function name: iommu_map, dma_map_sg, alloc_iova_fast ...
  args: Record<string, unknown>;
  result: unknown;
  site?: string | null;               // FILE.c:FUNCTION of the driver code that made the call
}

/** A page-table entry written or cleared (io-pgtable level). */
export interface PteEvent {
  kind: 'pte';
  op: 'set' | 'clear' | 'table';      // leaf written, leaf cleared, table descriptor installed
  domain: string;
  level: number;
  index: number;
  iova: number;                       // first IOVA the entry covers
  size: number;                       // bytes it covers
  paddr: number;                      // output address (leaf) or next-level table (table)
  raw: string;                        // raw descriptor as hex
}

export interface IotlbEvent {
  kind: 'iotlb';
  op: 'fill' | 'invalidate' | 'invalidate-all';
  iommu: string;
  domain: string;
  iova: number;
  size: number;
  paddr?: number;
  reason?: string;                    // strict unmap, flush queue, domain switch ...
}

export type FaultKind = 'translation' | 'permission' | 'blocked' | 'address-size' | 'bus';

export interface FaultEvent {
  kind: 'fault';
  dev: string;
  stream: number;
  iommu: string;
  iova: number;
  access: 'read' | 'write';
  fault: FaultKind;
  pasid?: number;
  message: string;                    // the IOMMU driver's own report line
  flags: number;                      // io_page_fault tracepoint flags
}

/** A tracepoint as /sys/kernel/tracing/trace prints it (name + formatted body). */
export interface TracepointEvent {
  kind: 'tracepoint';
  name: string;                       // map, unmap, attach_device_to_domain, dma_map_phys ...
  text: string;                       // formatted body after "name: "
}

/** A printk line: dev_info / dev_warn / WARN / pr_err. */
export interface PrintkEvent {
  kind: 'printk';
  level: 'info' | 'warn' | 'err' | 'debug';
  dev?: string;
  text: string;
}

export interface FindingEvent {
  kind: 'finding';
  finding: Finding;
}

/** A device access translated through the IOMMU (successful ones; failures are FaultEvents). */
export interface AccessEvent {
  kind: 'access';
  dev: string;
  access: 'read' | 'write';
  iova: number;
  size: number;
  paddr: number;
  via: 'iotlb' | 'walk' | 'bypass' | 'direct';
  pasid?: number;
}

/** One level of a page-table walk (for the walk panel and traces). */
export interface WalkEvent {
  kind: 'walk';
  domain: string;
  iova: number;
  level: number;
  index: number;
  table: number;                      // physical address of the table read
  raw: string;
  outcome: 'table' | 'leaf' | 'invalid';
}

/** A kernel crash: ends the run. */
export interface OopsEvent {
  kind: 'oops';
  message: string;
}

export type SimEvent = ApiCallEvent | PteEvent | IotlbEvent | FaultEvent | TracepointEvent | PrintkEvent
  | FindingEvent | AccessEvent | WalkEvent | OopsEvent;

export interface Finding {
  code: string;                       // stable: unaligned-map, exposure, wrong-free-function ...
  severity: Severity;
  message: string;
  step: number | null;
  site: string | null;
  /** extra numbers for views: addresses, sizes, neighbours */
  data?: Record<string, unknown>;
}

export type EventListener = (e: SimEvent, step: number) => void;

export class EventBus {
  private listeners: EventListener[] = [];
  /** true when somebody listens; emitters skip building events otherwise */
  active = false;
  /** index of the step being executed, stamped on every event */
  step = -1;

  on(l: EventListener): () => void {
    this.listeners.push(l);
    this.active = true;
    return () => {
      this.listeners = this.listeners.filter(x => x !== l);
      this.active = this.listeners.length > 0;
    };
  }

  emit(e: SimEvent): void {
    for (const l of this.listeners) l(e, this.step);
  }
}
