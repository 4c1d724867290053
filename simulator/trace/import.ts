// import-trace: a kernel trace (/sys/kernel/tracing/trace or `trace-cmd report`) turned into the same
// Report snapshot a simulated run produces, so the tree, the map and source annotations can show a real
// machine's IOMMU state. Bad lines are skipped and listed, never fatal; addresses the simulator's number
// type cannot hold exactly (>= 2^53) are refused, never rounded.
import type { Report, ReportFault } from '../report/types';
import {
  BodyError, Cursor, type FaultBody, parseDeviceBody, parseFaultBody, parseGroupBody, parseMapBody, parseUnmapBody, type MapBody,
  type UnmapBody,
} from './import-body';
import { DMA_EVENTS, checkDmaBody, emptyDmaBody, parseDmaBody } from './import-dma-body';
import { hex, hexPad } from '../core/format';
import { LIMITS, LIMITS_DOC } from '../limits';
import { DmaHandles, dmaRole, setDmaResult, setDmaRange, type DmaHandle } from './import-dma';
import { classifyRange, eventTask, newEventLine, siteOf, type EventLine, type StackFrame } from './import-line';
import { TraceModel, type DeviceState, type DmaBinding } from './import-model';
import { buildReport } from './import-report';
import { StepColumns } from './import-steps';

export interface ImportOptions {
  /** Lines longer than this are skipped unparsed (default LIMITS.traceLineLength: a 128-entry dma_map_sg fits). */
  maxLineLength?: number;
  /** At most this many skipped lines are listed (all are counted; default 10000). */
  maxSkippedListed?: number;
}

export interface SkippedLine { line: number; col?: number; reason: string }

/** A kernel stack trace recorded with an event; `site` is its first frame outside IOMMU/DMA core code. */
export interface TraceStack { step: number; line: number; frames: StackFrame[]; site: string | null }

export interface ImportResult {
  report: Report;
  skipped: SkippedLine[];
  skippedCount: number;
  /** events of other subsystems (sched_switch, irq …): not errors */
  ignored: number;
  /** events the ring buffer dropped (`CPU:N [LOST n EVENTS]`): the rebuilt state may miss some */
  lost: number;
  stacks: TraceStack[];
  /** DMA-API handles mapped or allocated and never unmapped or freed within the trace */
  dmaHandles: DmaHandle[];
  lines: number;
  events: number;
  format: 'ftrace' | 'trace-cmd' | 'unknown';
}

/** The events imported, by how they are applied. */
const MAP = 1, UNMAP = 2, GROUP = 3, ATTACH = 4, FAULT = 5, DMA = 6;
const IMPORTED = new Map<string, number>([
  ['map', MAP], ['unmap', UNMAP], ['add_device_to_group', GROUP], ['remove_device_from_group', GROUP],
  ['attach_device_to_domain', ATTACH], ['detach_device_from_domain', ATTACH], ['io_page_fault', FAULT],
  ...[...DMA_EVENTS].map(n => [n, DMA] as [string, number]),
]);

/** report.faults entries with what the tracepoint adds: the driver, the raw flags, the trace line. */
export type ImportedFault = ReportFault & { driver: string; flags: number; line: number; domain: string | null; mapped: boolean };

/** io_page_fault names driver and device, not the stream or the fault type (stream -1, kind io_page_fault). */
function faultRecord(step: number, line: number, b: FaultBody, domain: string | null, mapped: boolean): ImportedFault {
  const access = b.flags % 2 === 1 ? 'write' : 'read';                // IOMMU_FAULT_WRITE = 0x1
  const iova = hex(b.iova);
  const where = domain ? `; ${iova} is ${mapped ? '' : 'not '}mapped in ${domain}` : '';
  return {
    step, dev: b.dev, stream: -1, iova, kind: 'io_page_fault', access, driver: b.driver, flags: b.flags, line, domain, mapped,
    message: `${b.driver ? b.driver + ' ' : ''}${b.dev}: io_page_fault at ${iova} flags=0x${hexPad(b.flags, 4)} (${access})${where}`,
  };
}

class Importer {
  readonly steps: StepColumns;
  readonly model: TraceModel;
  readonly handles = new DmaHandles();
  readonly stacks: TraceStack[] = [];
  readonly skipped: SkippedLine[] = [];
  readonly faults: ImportedFault[] = [];
  private readonly cursor = new Cursor('');
  private readonly scratchLine = newEventLine();
  private readonly scratchDma = emptyDmaBody();
  private readonly scratchMap: MapBody = { iova: 0, paddr: 0, size: 0 };
  private readonly scratchUnmap: UnmapBody = { iova: 0, size: 0, unmapped: 0 };
  private readonly binding: DmaBinding = {
    dev: null as unknown as DeviceState, name: '', step: 0, kind: 'any', lo: 0, hi: 0, starts: null, lengths: null, all: true, requested: undefined,
  };
  skippedCount = 0;
  ignored = 0;
  lost = 0;
  format: ImportResult['format'] = 'unknown';
  /** stack frames that follow go to this step (-1: they belong to an event not imported) */
  private frameStep = -1;
  private frameStack: TraceStack | null = null;

  constructor(readonly text: string, private maxListed: number) {
    this.steps = new StepColumns(text);
    this.model = new TraceModel(this.steps);
  }

  skip(line: number, col: number | undefined, reason: string): void {
    this.skippedCount++;
    if (this.skipped.length < this.maxListed) this.skipped.push(col === undefined ? { line, reason } : { line, col, reason });
    this.frameStep = -1;
  }

  /** Line n is text[from, to). */
  line(from: number, to: number, n: number): void {
    const t = classifyRange(this.text, from, to, this.scratchLine);
    switch (t.kind) {
      case 'quiet':
        if (t.format && this.format === 'unknown') this.format = t.format;
        if (!t.blank) this.frameStep = -1;
        return;
      case 'lost':
        this.lost += t.count;
        this.frameStep = -1;
        return;
      case 'bad':
        return this.skip(n, t.offset + 1, t.reason);
      case 'frame': {
        const step = this.frameStep;
        if (step < 0) return;
        if (!this.frameStack) {
          this.frameStack = { step, line: this.steps.line[step], frames: [], site: null };
          this.stacks.push(this.frameStack);
        }
        this.frameStack.frames.push(t.frame);
        return;
      }
      case 'stack-start': {
        // a stack trace belongs to the event just before it, from the same task and CPU
        const step = this.frameStep;
        if (t.user || step < 0 || this.steps.pid[step] !== t.pid || this.steps.cpu[step] !== t.cpu || this.frameStack) this.frameStep = -1;
        return;
      }
      case 'event':
        return this.event(t, n);
    }
  }

  private event(t: EventLine, n: number): void {
    const name = t.name;
    const kind = IMPORTED.get(name);
    if (kind === undefined) {
      this.ignored++;
      this.frameStep = -1;
      return;
    }
    t.task = eventTask(this.text, t);
    const c = this.cursor.reset(this.text, t.bodyStart, t.bodyEnd);
    try {
      this.apply(t, n, c, kind);
    } catch (e) {
      if (!(e instanceof BodyError)) throw e;
      this.skip(n, t.bodyCol + e.offset + 1, `${name}: ${e.message}`);
    }
  }

  /** The event's step; stack frames that follow belong to it. */
  private newStep(t: EventLine, n: number, result: number | null, attributed = false): number {
    const step = this.steps.add(t, n, attributed);
    this.steps.setResult(step, result);
    this.frameStep = step;
    this.frameStack = null;
    return step;
  }

  /** Parses the body (throwing BodyError before any state changes) and applies the event. */
  private apply(t: EventLine, n: number, c: Cursor, kind: number): void {
    const m = this.model;
    const ctx = TraceModel.context(t.pid, t.cpu);
    if (t.name !== 'attach_device_to_domain') m.endAttachBatch();
    switch (kind) {
      case MAP: return this.map(t, n, c, ctx);
      case UNMAP: return this.unmap(t, n, c, ctx);
      case GROUP: return this.group(t, n, c, ctx);
      case ATTACH: return this.attach(t, n, c, ctx);
      case FAULT: return this.fault(t, n, c);
      default: return this.dma(t, n, c, ctx);
    }
  }

  private map(t: EventLine, n: number, c: Cursor, ctx: number): void {
    const b = parseMapBody(c, this.scratchMap);
    const step = this.newStep(t, n, 0, true);
    const m = this.model;
    m.queue(m.op('map', n, t.pid, step, b.iova, b.size, b.paddr, 0), ctx);
  }

  private unmap(t: EventLine, n: number, c: Cursor, ctx: number): void {
    const b = parseUnmapBody(c, this.scratchUnmap);
    const step = this.newStep(t, n, b.unmapped, true);
    const m = this.model;
    m.queue(m.op('unmap', n, t.pid, step, b.iova, b.size, 0, b.unmapped), ctx);
  }

  private group(t: EventLine, n: number, c: Cursor, ctx: number): void {
    const b = parseGroupBody(c);
    const m = this.model;
    m.settle(ctx);
    this.newStep(t, n, b.group);
    const dev = m.device(b.dev, n);
    if (t.name === 'add_device_to_group') m.addToGroup(b.group, dev);
    else m.removeFromGroup(b.group, dev);
    m.noteTask(t.pid, dev);
  }

  private attach(t: EventLine, n: number, c: Cursor, ctx: number): void {
    const b = parseDeviceBody(c);
    const m = this.model;
    m.settle(ctx);
    const step = this.newStep(t, n, 0);
    const dev = m.device(b.dev, n);
    if (t.name === 'attach_device_to_domain') this.steps.domain[step] = m.attach(dev, n).index + 1;
    else m.detach(dev);
    m.noteTask(t.pid, dev);
  }

  /** Faults arrive in interrupt context on whatever task was running: they settle nothing. */
  private fault(t: EventLine, n: number, c: Cursor): void {
    const b = parseFaultBody(c);
    const step = this.newStep(t, n, null);
    const dev = this.model.device(b.dev, n);
    if (b.driver) dev.driver = b.driver;
    const d = dev.domain;
    let mapped = false;
    if (d) {
      mapped = d.live.contains(b.iova);
      this.steps.domain[step] = d.index + 1;
      this.steps.setMapped(step, mapped);
    }
    this.faults.push(faultRecord(step, n, b, d?.id ?? null, mapped));
  }

  private dma(t: EventLine, n: number, c: Cursor, ctx: number): void {
    const name = t.name;
    const bodyAt = c.pos - c.base;
    const b = parseDmaBody(c, this.scratchDma);
    checkDmaBody(name, b, bodyAt);
    const role = dmaRole(name);
    const step = this.newStep(t, n, 0);
    setDmaResult(this.steps, step, this.text, name, b, role);
    const m = this.model;
    const dev = m.device(b.dev, n);
    if (role === 'other') m.settle(ctx);
    else {
      const bind = this.binding;
      bind.dev = dev;
      bind.name = name;
      bind.step = step;
      bind.kind = role === 'error' ? 'any' : role;
      bind.requested = role === 'map' ? b.size : undefined;
      setDmaRange(bind, name, b, role);
      m.settle(ctx, bind);
    }
    m.noteTask(t.pid, dev);                       // after: what was pending predates this call
    if (!this.handles.update(dev.name, name, b, step, role)) this.steps.setUnknownHandle(step);
  }
}

export function importTrace(text: string, file: string, opts: ImportOptions = {}): ImportResult {
  const maxLen = opts.maxLineLength ?? LIMITS.traceLineLength;
  const limitNote = maxLen === LIMITS.traceLineLength ? ` (simulator limit traceLineLength; see ${LIMITS_DOC})` : '';
  const imp = new Importer(text, opts.maxSkippedListed ?? 10000);
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let n = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    n++;
    const len = nl - pos;
    if (len > maxLen) imp.skip(n, undefined, `line is ${len} characters long; longer than ${maxLen}, not parsed${limitNote}`);
    else imp.line(pos, nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl, n);
    pos = nl + 1;
  }
  imp.model.settleAll();
  const cols = imp.steps;
  for (const s of imp.stacks) {
    s.site = siteOf(s.frames);
    cols.site.set(s.step, s.site);
    cols.stack.set(s.step, s.frames);
  }
  const steps = cols.build(imp.model.domains.map(d => d.id), imp.model.deviceList.map(d => d.name));
  const dmaHandles = imp.handles.list(steps);
  const report = buildReport(file, imp.model, steps, imp.faults, dmaHandles);
  return {
    report, skipped: imp.skipped, skippedCount: imp.skippedCount, ignored: imp.ignored, lost: imp.lost,
    stacks: imp.stacks, dmaHandles, lines: n, events: steps.length, format: imp.format,
  };
}
