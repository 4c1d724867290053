// The imported events, one per report step, kept as columns while the trace is read and turned into
// ReportSteps once at the end. A big trace has a million events: as columns they cost no object each while
// the model works through them (the model fills in the domain, the rule that placed a map/unmap, the DMA
// call that explains it), and each ReportStep is built in one go with its final shape.
import type { Finding } from '../core/events';
import type { ReportEvent, ReportStep } from '../report/types';
import type { StackFrame } from './import-line';

/** How a map/unmap event was placed in its domain (import-model.ts lists the rules). */
export type Via = 'dma-call' | 'task-device' | 'iova-owner' | 'driver-owned' | 'last-attached' | 'unattributed';
const VIA_NAMES: ReadonlyArray<Via | undefined> = [undefined, 'dma-call', 'task-device', 'iova-owner', 'driver-owned', 'last-attached', 'unattributed'];
export const VIA_CODE: Readonly<Record<Via, number>> = {
  'dma-call': 1, 'task-device': 2, 'iova-owner': 3, 'driver-owned': 4, 'last-attached': 5, 'unattributed': 6,
};

/** flags: a map/unmap (its event always carries domain, via, via_step, via_device), fault's `mapped`, unknown handle */
const ATTRIBUTED = 1, MAPPED_SET = 2, MAPPED = 4, UNKNOWN_HANDLE = 8;

/** What a step's result is: a number (resultNum), null, "0x" + text[resultNum, resultTo) bare or as { dma }, anything else. */
const R_NUMBER = 0, R_NULL = 1, R_HEX = 2, R_HEX_DMA = 3, R_OTHER = 4;

/**
 * Imported steps raise no findings of their own (trace findings are report-wide), and a report is a
 * read-only snapshot: they all share this frozen empty list rather than a million empty arrays.
 */
const NO_FINDINGS = Object.freeze([]) as unknown as Finding[];

/** Where the event's strings are in the trace text, and who it ran as. */
export interface StepSource {
  name: string;
  task: string;
  pid: number;
  cpu: number;
  tsStart: number;
  tsEnd: number;
  bodyStart: number;
  bodyEnd: number;
}

export class StepColumns {
  n = 0;
  line: Int32Array;
  pid: Int32Array;
  cpu: Int32Array;
  private tsStart: Int32Array;
  private tsEnd: Int32Array;
  private bodyStart: Int32Array;
  private bodyEnd: Int32Array;
  /** 1 + index of the domain the event names (model.domains), 0: none */
  domain: Int32Array;
  /** VIA_CODE of a map/unmap, 0: none */
  via: Uint8Array;
  viaStep: Int32Array;
  /** 1 + index of the device (model device list), 0: none */
  viaDevice: Int32Array;
  private flags: Uint8Array;
  /** op and task as indices in `strings` */
  private op: Int32Array;
  private task: Int32Array;
  private resultKind: Uint8Array;
  private resultNum: Float64Array;
  private resultTo: Int32Array;
  private readonly resultOther = new Map<number, unknown>();
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();
  /** rarely set: bytes a map replaced, bytes an unmap found unmapped */
  readonly replaced = new Map<number, number>();
  readonly untracked = new Map<number, number>();
  readonly stack = new Map<number, StackFrame[]>();
  readonly site = new Map<number, string | null>();

  /** Room for a guess at the events of `text` (one per 120 characters: trace lines are longer), grown if short. */
  constructor(readonly text: string) {
    const cap = Math.max(1024, Math.ceil(text.length / 120));
    this.line = new Int32Array(cap);
    this.pid = new Int32Array(cap);
    this.cpu = new Int32Array(cap);
    this.tsStart = new Int32Array(cap);
    this.tsEnd = new Int32Array(cap);
    this.bodyStart = new Int32Array(cap);
    this.bodyEnd = new Int32Array(cap);
    this.domain = new Int32Array(cap);
    this.via = new Uint8Array(cap);
    this.viaStep = new Int32Array(cap);
    this.viaDevice = new Int32Array(cap);
    this.flags = new Uint8Array(cap);
    this.op = new Int32Array(cap);
    this.task = new Int32Array(cap);
    this.resultKind = new Uint8Array(cap);
    this.resultNum = new Float64Array(cap);
    this.resultTo = new Int32Array(cap);
  }

  private grow(): void {
    const cap = this.line.length * 2;
    const i32 = (a: Int32Array) => { const b = new Int32Array(cap); b.set(a); return b; };
    this.line = i32(this.line); this.pid = i32(this.pid); this.cpu = i32(this.cpu);
    this.tsStart = i32(this.tsStart); this.tsEnd = i32(this.tsEnd); this.bodyStart = i32(this.bodyStart); this.bodyEnd = i32(this.bodyEnd);
    this.domain = i32(this.domain); this.viaStep = i32(this.viaStep); this.viaDevice = i32(this.viaDevice);
    this.op = i32(this.op); this.task = i32(this.task); this.resultTo = i32(this.resultTo);
    const u8 = (a: Uint8Array) => { const b = new Uint8Array(cap); b.set(a); return b; };
    this.via = u8(this.via); this.flags = u8(this.flags); this.resultKind = u8(this.resultKind);
    const num = new Float64Array(cap); num.set(this.resultNum); this.resultNum = num;
  }

  private stringId(s: string): number {
    let k = this.stringIds.get(s);
    if (k === undefined) {
      k = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, k);
    }
    return k;
  }

  /** A new step for the event at trace line `line`; its index. Its result is 0 until set. */
  add(e: StepSource, line: number, attributed: boolean): number {
    const i = this.n;
    if (i === this.line.length) this.grow();
    this.line[i] = line;
    this.pid[i] = e.pid;
    this.cpu[i] = e.cpu;
    this.tsStart[i] = e.tsStart;
    this.tsEnd[i] = e.tsEnd;
    this.bodyStart[i] = e.bodyStart;
    this.bodyEnd[i] = e.bodyEnd;
    this.viaStep[i] = -1;
    this.flags[i] = attributed ? ATTRIBUTED : 0;
    this.op[i] = this.stringId(e.name);
    this.task[i] = this.stringId(e.task);
    this.resultKind[i] = R_NUMBER;
    this.resultNum[i] = 0;
    this.n = i + 1;
    return i;
  }

  setResult(i: number, v: unknown): void {
    if (typeof v === 'number') {
      this.resultKind[i] = R_NUMBER;
      this.resultNum[i] = v;
    } else if (v === null) this.resultKind[i] = R_NULL;
    else {
      this.resultKind[i] = R_OTHER;
      this.resultOther.set(i, v);
    }
  }

  /** The result is "0x" + text[from, to), or { dma: that } (the digits are already as hex() prints them). */
  setHexResult(i: number, from: number, to: number, asDma: boolean): void {
    this.resultKind[i] = asDma ? R_HEX_DMA : R_HEX;
    this.resultNum[i] = from;
    this.resultTo[i] = to;
  }

  private result(i: number): unknown {
    switch (this.resultKind[i]) {
      case R_NUMBER: return this.resultNum[i];
      case R_NULL: return null;
      case R_HEX: return '0x' + this.text.slice(this.resultNum[i], this.resultTo[i]);
      case R_HEX_DMA: return { dma: '0x' + this.text.slice(this.resultNum[i], this.resultTo[i]) };
      default: return this.resultOther.get(i);
    }
  }

  /** The op (event name) of step i. */
  opOf(i: number): string {
    return this.strings[this.op[i]];
  }

  /** The body of step i as printed (the event's `text`). */
  body(i: number): string {
    return this.text.slice(this.bodyStart[i], this.bodyEnd[i]);
  }

  setMapped(i: number, mapped: boolean): void {
    this.flags[i] |= MAPPED_SET | (mapped ? MAPPED : 0);
  }

  isMapped(i: number): boolean {
    return (this.flags[i] & MAPPED) !== 0;
  }

  setUnknownHandle(i: number): void {
    this.flags[i] |= UNKNOWN_HANDLE;
  }

  /** The site of step i: its own stack's, else that of the DMA call that explains it. */
  private siteOf(i: number): string | null {
    const own = this.site.get(i);
    if (own !== undefined && own !== null) return own;
    const via = this.viaStep[i];
    return via >= 0 ? this.site.get(via) ?? null : null;
  }

  /**
   * Every step as a ReportStep. Keys come in the order the importer always gave them (the JSON text
   * depends on it): the event's context, then domain and placement, then what the event adds, the stack last.
   */
  build(domainIds: readonly string[], deviceNames: readonly string[]): ReportStep[] {
    const out: ReportStep[] = new Array(this.n);
    const text = this.text;
    const anySite = this.site.size > 0;
    const strings = this.strings;
    for (let i = 0; i < this.n; i++) {
      const flags = this.flags[i];
      const name = strings[this.op[i]];
      const task = strings[this.task[i]];
      const ts = text.slice(this.tsStart[i], this.tsEnd[i]);
      const body = text.slice(this.bodyStart[i], this.bodyEnd[i]);
      const d = this.domain[i];
      let ev: ReportEvent;
      if (flags & ATTRIBUTED) {
        const via = this.viaStep[i];
        const dev = this.viaDevice[i];
        ev = {
          kind: 'tracepoint', name, text: body, task, pid: this.pid[i], cpu: this.cpu[i], ts,
          domain: d ? domainIds[d - 1] : undefined, via: VIA_NAMES[this.via[i]],
          via_step: via >= 0 ? via : undefined, via_device: dev ? deviceNames[dev - 1] : undefined,
        };
        if (this.replaced.size && this.replaced.has(i)) ev.replaced = this.replaced.get(i);
        if (this.untracked.size && this.untracked.has(i)) ev.untracked = this.untracked.get(i);
      } else {
        ev = { kind: 'tracepoint', name, text: body, task, pid: this.pid[i], cpu: this.cpu[i], ts };
        if (d) ev.domain = domainIds[d - 1];
        if (flags & MAPPED_SET) ev.mapped = (flags & MAPPED) !== 0;
        if (flags & UNKNOWN_HANDLE) ev.unknown_handle = true;
      }
      let site: string | null = null;
      if (anySite) {
        const frames = this.stack.get(i);
        if (frames) ev.stack = frames;
        site = this.siteOf(i);
      }
      out[i] = { index: i, op: name, site, result: this.result(i), events: [ev], findings: NO_FINDINGS, line: this.line[i] };
    }
    return out;
  }
}
