// import-trace: a kernel trace (/sys/kernel/tracing/trace or `trace-cmd report`) turned into the same
// Report snapshot a simulated run produces, so the tree, the map and source annotations can show a real
// machine's IOMMU state. Bad lines are skipped and listed, never fatal; addresses the simulator's number
// type cannot hold exactly (>= 2^53) are refused, never rounded.
import type { Finding } from '../core/events';
import type { Report, ReportEvent, ReportFault, ReportStep } from '../report/types';
import {
  BodyError, Cursor, DMA_EVENTS, emptyDmaBody, type FaultBody, checkDmaBody, parseDeviceBody, parseDmaBody, parseFaultBody, parseGroupBody,
  parseMapBody, parseUnmapBody, type MapBody, type UnmapBody,
} from './import-body';
import { hex, hexPad } from '../core/format';
import { LIMITS, LIMITS_DOC } from '../limits';
import { DmaHandles, dmaResult, dmaRole, setDmaRange, type DmaHandle } from './import-dma';
import { BracketFinder, classifyRange, newEventLine, siteOf, type EventLine, type StackFrame } from './import-line';
import { TraceModel, type DeviceState, type DmaBinding } from './import-model';
import { buildReport } from './import-report';

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

/**
 * Imported steps raise no findings of their own (trace findings are report-wide), and a report is a
 * read-only snapshot: they all share this frozen empty list rather than a million empty arrays.
 */
const NO_FINDINGS = Object.freeze([]) as unknown as Finding[];

const IOMMU_EVENTS = new Set([
  'add_device_to_group', 'remove_device_from_group', 'attach_device_to_domain', 'detach_device_from_domain',
  'map', 'unmap', 'io_page_fault',
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
  readonly model = new TraceModel();
  readonly handles = new DmaHandles();
  readonly steps: ReportStep[] = [];
  readonly stacks: TraceStack[] = [];
  readonly skipped: SkippedLine[] = [];
  readonly faults: ImportedFault[] = [];
  private readonly cursor = new Cursor('');
  private readonly scratchLine = newEventLine();
  private readonly scratchDma = emptyDmaBody();
  private readonly scratchMap: MapBody = { iova: 0, paddr: 0, size: 0 };
  private readonly scratchUnmap: UnmapBody = { iova: 0, size: 0, unmapped: 0 };
  private readonly binding: DmaBinding = {
    dev: null as unknown as DeviceState, name: '', step: 0, kind: 'any', lo: 0, hi: 0, ranges: null, all: true, requested: undefined,
  };
  skippedCount = 0;
  ignored = 0;
  lost = 0;
  format: ImportResult['format'] = 'unknown';
  /** stack frames that follow go to this step (null: they belong to an event not imported) */
  private frameStep: ReportStep | null = null;
  private frameStack: TraceStack | null = null;

  private readonly brackets: BracketFinder;

  constructor(readonly text: string, private maxListed: number) {
    this.brackets = new BracketFinder(text);
  }

  skip(line: number, col: number | undefined, reason: string): void {
    this.skippedCount++;
    if (this.skipped.length < this.maxListed) this.skipped.push(col === undefined ? { line, reason } : { line, col, reason });
    this.frameStep = null;
  }

  /** Line n is text[from, to). */
  line(from: number, to: number, n: number): void {
    const t = classifyRange(this.text, from, to, this.scratchLine, this.brackets);
    switch (t.kind) {
      case 'quiet':
        if (t.format && this.format === 'unknown') this.format = t.format;
        if (!t.blank) this.frameStep = null;
        return;
      case 'lost':
        this.lost += t.count;
        this.frameStep = null;
        return;
      case 'bad':
        return this.skip(n, t.offset + 1, t.reason);
      case 'frame': {
        const step = this.frameStep;
        if (!step) return;
        if (!this.frameStack) {
          this.frameStack = { step: step.index, line: step.line ?? n, frames: [], site: null };
          this.stacks.push(this.frameStack);
        }
        this.frameStack.frames.push(t.frame);
        return;
      }
      case 'stack-start': {
        // a stack trace belongs to the event just before it, from the same task and CPU
        const ev = this.frameStep?.events[0];
        if (t.user || !ev || ev.pid !== t.pid || ev.cpu !== t.cpu || this.frameStack) this.frameStep = null;
        return;
      }
      case 'event':
        return this.event(t, n);
    }
  }

  private event(t: EventLine, n: number): void {
    const name = t.name;
    if (!IOMMU_EVENTS.has(name) && !DMA_EVENTS.has(name)) {
      this.ignored++;
      this.frameStep = null;
      return;
    }
    const c = this.cursor.reset(t.body);
    try {
      this.apply(t, n, c);
    } catch (e) {
      if (!(e instanceof BodyError)) throw e;
      this.skip(n, t.bodyCol + e.offset + 1, `${name}: ${e.message}`);
    }
  }

  private newStep(t: EventLine, n: number, result: unknown, attributed = false): ReportStep {
    // map/unmap events get domain / via / via_step / via_device when attributed; declared up front so they
    // share one shape (undefined fields do not appear in JSON)
    const ev: ReportEvent = attributed
      ? {
        kind: 'tracepoint', name: t.name, text: t.body, task: t.task, pid: t.pid, cpu: t.cpu, ts: t.ts,
        domain: undefined, via: undefined, via_step: undefined, via_device: undefined,
      }
      : { kind: 'tracepoint', name: t.name, text: t.body, task: t.task, pid: t.pid, cpu: t.cpu, ts: t.ts };
    const step: ReportStep = { index: this.steps.length, op: t.name, site: null, result, events: [ev], findings: NO_FINDINGS, line: n };
    this.steps.push(step);
    this.frameStep = step;
    this.frameStack = null;
    return step;
  }

  /** Parses the body (throwing BodyError before any state changes) and applies the event. */
  private apply(t: EventLine, n: number, c: Cursor): void {
    const m = this.model;
    const ctx = TraceModel.context(t.pid, t.cpu);
    const name = t.name;
    if (name !== 'attach_device_to_domain') m.endAttachBatch();
    switch (name) {
      case 'map': {
        const b = parseMapBody(c, this.scratchMap);
        const step = this.newStep(t, n, 0, true);
        const ev = step.events[0];
        m.queue(m.op('map', n, t.pid, step, ev, b.iova, b.size, b.paddr, 0), ctx);
        return;
      }
      case 'unmap': {
        const b = parseUnmapBody(c, this.scratchUnmap);
        const step = this.newStep(t, n, b.unmapped, true);
        const ev = step.events[0];
        m.queue(m.op('unmap', n, t.pid, step, ev, b.iova, b.size, 0, b.unmapped), ctx);
        return;
      }
      case 'add_device_to_group':
      case 'remove_device_from_group': {
        const b = parseGroupBody(c);
        m.settle(ctx);
        this.newStep(t, n, b.group);
        const dev = m.device(b.dev, n);
        if (name === 'add_device_to_group') m.addToGroup(b.group, dev);
        else m.removeFromGroup(b.group, dev);
        m.noteTask(t.pid, dev);
        return;
      }
      case 'attach_device_to_domain':
      case 'detach_device_from_domain': {
        const b = parseDeviceBody(c);
        m.settle(ctx);
        const ev = this.newStep(t, n, 0).events[0];
        const dev = m.device(b.dev, n);
        if (name === 'attach_device_to_domain') ev.domain = m.attach(dev, n).id;
        else m.detach(dev);
        m.noteTask(t.pid, dev);
        return;
      }
      case 'io_page_fault': {
        // faults arrive in interrupt context on whatever task was running: they settle nothing
        const b = parseFaultBody(c);
        const step = this.newStep(t, n, null);
        const ev = step.events[0];
        const dev = m.device(b.dev, n);
        if (b.driver) dev.driver = b.driver;
        const d = dev.domain;
        if (d) {
          ev.domain = d.id;
          ev.mapped = d.live.contains(b.iova);
        }
        this.faults.push(faultRecord(step.index, n, b, d?.id ?? null, ev.mapped === true));
        return;
      }
      default: {
        const bodyAt = c.pos;
        const b = parseDmaBody(c, this.scratchDma);
        checkDmaBody(name, b, bodyAt);
        const step = this.newStep(t, n, dmaResult(name, b));
        const ev = step.events[0];
        const dev = m.device(b.dev, n);
        const role = dmaRole(name);
        if (role === 'other') m.settle(ctx);
        else {
          const bind = this.binding;
          bind.dev = dev;
          bind.name = name;
          bind.step = step.index;
          bind.kind = role === 'error' ? 'any' : role;
          bind.requested = role === 'map' ? b.size : undefined;
          setDmaRange(bind, name, b);
          m.settle(ctx, bind);
        }
        m.noteTask(t.pid, dev);                       // after: what was pending predates this call
        if (!this.handles.update(dev.name, name, b, step.index)) ev.unknown_handle = true;
      }
    }
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
  for (const s of imp.stacks) {
    s.site = siteOf(s.frames);
    const step = imp.steps[s.step];
    step.site = s.site;
    step.events[0].stack = s.frames;
  }
  // an IOMMU event explained by a later DMA call is annotated where that call was made
  for (const step of imp.steps) {
    const via = step.events[0].via_step;
    if (step.site === null && typeof via === 'number') step.site = imp.steps[via].site;
  }
  const dmaHandles = imp.handles.list(imp.steps);
  const report = buildReport(file, imp.model, imp.steps, imp.faults, dmaHandles);
  return {
    report, skipped: imp.skipped, skippedCount: imp.skippedCount, ignored: imp.ignored, lost: imp.lost,
    stacks: imp.stacks, dmaHandles, lines: n, events: imp.steps.length, format: imp.format,
  };
}
