// Binds a run's outcomes to the call sites of one analysed C file. Pure: an Analysis and a Report in, a
// Binding out (no vscode, no session), so the CLI, the editor and imported kernel traces share it.
//
// The rule, stable across runs and edits:
//   - a step's events are split into invocations at its api events (the simulator emits a call's api event
//     after the tracepoints, findings and faults the call produced; what follows the last api event of a
//     step belongs to it). An imported trace step without api events is one invocation of its tracepoint;
//   - an invocation belongs to this file when its site (`FILE.c:FUNCTION`, api event's own site first, then
//     the step's) names this file's base name, or, for a bare `FUNCTION` from a kernel stack trace, a
//     function defined here;
//   - within that function, the n-th invocation of API A binds to the calls of A in source order, cycling:
//     one call in a loop takes every iteration, two calls take turns. `FILE.c:FUNCTION:LINE` pins the line;
//   - API names with no such call in the function (or a function missing from the file) are reported as
//     unmatched, never dropped; driver ops (apu.*) and non-API steps (kmalloc, dma_read) count for the
//     function only;
//   - a driver op whose model reports the kernel's work only as tracepoints (map/unmap/dma_*, no api events
//     of their own) has those tracepoints bound like an imported trace's, to the one function of this file
//     that makes such a call (the op's own function when several do); this needs the op's site in this file.
import type { Finding } from '../core/events';
import type { Report, ReportEvent, ReportStep } from '../report/types';
import { apiFamily } from './apis';
import { consequences } from './bind-consequence';
import { describeCall, summarize, summarizeTracepoint } from './bind-summary';
import type {
  Binding, BoundInvocation, CallOutcome, FunctionOutcome, OutcomeDiagnostic, UnmatchedEvent,
} from './bind-types';
import type { Analysis, ApiCall, FunctionInfo, SourceRange } from './types';

export type * from './bind-types';

export interface SiteRef { base: string | null; func: string | null; line: number | null }

/** `FILE.c:FUNCTION`, `dir/FILE.c:FUNCTION:LINE`, `FILE.c:LINE`, or a bare `FUNCTION` (kernel stack traces). */
export function parseSiteRef(site: string | null | undefined): SiteRef | null {
  if (typeof site !== 'string') return null;
  const t = site.trim();
  let m = /^([^\s:]+\.[ch]):([A-Za-z_]\w*)(?::([1-9]\d*))?$/.exec(t);
  if (m) return { base: baseName(m[1]), func: m[2], line: m[3] ? Number(m[3]) : null };
  m = /^([^\s:]+\.[ch]):([1-9]\d*)$/.exec(t);
  if (m) return { base: baseName(m[1]), func: null, line: Number(m[2]) };
  m = /^([A-Za-z_]\w*)$/.exec(t);
  return m ? { base: null, func: m[1], line: null } : null;
}

export function baseName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

/** Kernel APIs each imported tracepoint stands for (the calls a `map:` line can come from, and so on). */
const TRACE_APIS: Record<string, string[]> = {
  map: ['iommu_map', 'iommu_map_sg', 'iommu_map_sgtable'],
  unmap: ['iommu_unmap', 'iommu_unmap_fast'],
  attach_device_to_domain: ['iommu_attach_device', 'iommu_attach_group'],
  dma_map_phys: ['dma_map_single', 'dma_map_single_attrs', 'dma_map_page', 'dma_map_page_attrs', 'dma_map_resource', 'dma_map_phys'],
  dma_unmap_phys: ['dma_unmap_single', 'dma_unmap_single_attrs', 'dma_unmap_page', 'dma_unmap_page_attrs', 'dma_unmap_resource', 'dma_unmap_phys'],
  dma_map_sg: ['dma_map_sg', 'dma_map_sg_attrs', 'dma_map_sgtable'],
  dma_unmap_sg: ['dma_unmap_sg', 'dma_unmap_sg_attrs', 'dma_unmap_sgtable'],
  dma_alloc: ['dma_alloc_coherent', 'dma_alloc_attrs', 'dma_alloc_wc', 'dma_alloc_noncoherent', 'dma_alloc_pages'],
  dma_free: ['dma_free_coherent', 'dma_free_attrs', 'dma_free_wc', 'dma_free_noncoherent', 'dma_free_pages'],
};
TRACE_APIS.dma_map_page = TRACE_APIS.dma_map_phys;           // the name in 6.10-6.17
TRACE_APIS.dma_unmap_page = TRACE_APIS.dma_unmap_phys;
/** Tracepoints of a driver op that stand for a call the driver itself makes (attach happens in the core at probe). */
const DRIVER_CALL_TRACEPOINTS = new Set(Object.keys(TRACE_APIS).filter(t => t !== 'attach_device_to_domain'));

/** The tracepoint event a trace invocation stands for. */
function tracepointOf(g: { name: string; events: ReportEvent[] }): ReportEvent | undefined {
  return g.events.find(e => e.kind === 'tracepoint' && e.name === g.name);
}

/** Spellings of one API in source: the _attrs variants, sgtable for sg, the _fast unmap. */
function aliases(api: string): string[] {
  const out = [`${api}_attrs`, api.replace(/_attrs$/, '')];
  if (/_sg$/.test(api)) out.push(api + 'table');
  if (/_sgtable$/.test(api)) out.push(api.replace(/table$/, ''));
  if (api === 'iommu_unmap') out.push('iommu_unmap_fast');
  return out.filter(a => a !== api);
}

/** One invocation of the run before it is placed: an api event (or a trace step) and its events. */
interface Group {
  step: ReportStep;
  name: string;
  args: Record<string, unknown>;
  result: unknown;
  site: string | null;
  source: 'api' | 'trace';
  events: ReportEvent[];
  /** a tracepoint inside a driver op (no site of its own): placed by the op's site and the file's calls */
  inferredFrom?: Group;
  /** where it was placed in this file, once bound */
  fn?: FunctionInfo;
  call?: ApiCall;
  invocation?: BoundInvocation;
}

function stepGroups(step: ReportStep): Group[] {
  const groups: Group[] = [];
  let pending: ReportEvent[] = [];
  for (const e of step.events ?? []) {
    if (e.kind !== 'api') { pending.push(e); continue; }
    const args = e.args && typeof e.args === 'object' ? e.args as Record<string, unknown> : {};
    const site = typeof e.site === 'string' ? e.site : step.site;
    const g: Group = { step, name: String(e.name), args, result: e.result, site, source: 'api', events: pending };
    groups.push(...(g.name.includes('.') ? splitDriverOp(g) : []), g);
    pending = [];
  }
  if (pending.length) {
    if (groups.length) groups[groups.length - 1].events.push(...pending);
    else groups.push({ step, name: step.op, args: {}, result: step.result, site: step.site, source: 'trace', events: pending });
  }
  return groups;
}

/**
 * The IOMMU/DMA tracepoints of a driver op, each with the events since the previous one (its PTE writes,
 * printk lines, findings), as invocations of their own; the op keeps what follows the last one.
 */
function splitDriverOp(op: Group): Group[] {
  const out: Group[] = [];
  let pending: ReportEvent[] = [];
  for (const e of op.events) {
    pending.push(e);
    if (e.kind !== 'tracepoint' || typeof e.name !== 'string' || !DRIVER_CALL_TRACEPOINTS.has(e.name)) continue;
    out.push({ step: op.step, name: e.name, args: {}, result: null, site: null, source: 'trace', events: pending, inferredFrom: op });
    pending = [];
  }
  op.events = pending;
  return out;
}

class Binder {
  readonly base: string;
  private readonly functions = new Map<string, FunctionInfo>();
  private readonly callsOf = new Map<string, ApiCall[]>();
  private readonly counters = new Map<string, number>();
  readonly outcomes = new Map<ApiCall, BoundInvocation[]>();
  readonly functionCalls = new Map<string, number>();
  readonly functionSteps = new Map<string, Set<number>>();
  readonly unmatched: UnmatchedEvent[] = [];
  bound = 0;
  otherFiles = 0;

  constructor(readonly analysis: Analysis) {
    this.base = baseName(analysis.file);
    for (const f of analysis.functions) if (!this.functions.has(f.name)) this.functions.set(f.name, f);
    for (const c of analysis.calls) {
      if (c.family === 'mm' || c.function === null) continue;
      const list = this.callsOf.get(c.function);
      if (list) list.push(c); else this.callsOf.set(c.function, [c]);
    }
  }

  /** The function of this file a site names; null for another file; undefined when this file lacks it. */
  resolve(site: string | null): { fn: FunctionInfo | undefined; ref: SiteRef } | null {
    const ref = parseSiteRef(site);
    if (!ref) return null;
    if (ref.base !== null && ref.base !== this.base) return null;
    if (ref.base === null && !this.functions.has(ref.func!)) return null;   // a stack frame of another file
    let fn = ref.func ? this.functions.get(ref.func) : undefined;
    if (!fn && ref.line !== null) {
      fn = this.analysis.functions.find(f => f.range.start.line <= ref.line! && ref.line! <= f.range.end.line);
    }
    return { fn, ref };
  }

  private countFor(fn: FunctionInfo, step: number): void {
    this.functionCalls.set(fn.name, (this.functionCalls.get(fn.name) ?? 0) + 1);
    let steps = this.functionSteps.get(fn.name);
    if (!steps) this.functionSteps.set(fn.name, steps = new Set());
    steps.add(step);
  }

  private candidates(fn: FunctionInfo, g: Group, ref: SiteRef): { calls: ApiCall[]; tracked: boolean } {
    const inFn = this.callsOf.get(fn.name) ?? [];
    let calls: ApiCall[];
    let tracked: boolean;
    if (g.source === 'trace') {
      const apis = TRACE_APIS[g.name];
      tracked = apis !== undefined;
      calls = apis ? inFn.filter(c => apis.includes(c.api)) : [];
    } else {
      tracked = !g.name.includes('.') && apiFamily(g.name) !== null;
      calls = inFn.filter(c => c.api === g.name);
      if (!calls.length && tracked) {
        const other = aliases(g.name);
        calls = inFn.filter(c => other.includes(c.api));
      }
    }
    if (ref.line !== null) {
      const onLine = calls.filter(c => c.line === ref.line);
      if (onLine.length) calls = onLine;
    }
    return { calls, tracked };
  }

  /** The function a driver op's tracepoint comes from: the only one making such a call, else the op's own. */
  private inferSite(g: Group): string | null {
    const op = this.resolve(g.inferredFrom!.site);
    if (!op) return null;                                     // the op is another file's driver
    const apis = TRACE_APIS[g.name];
    const makers = [...this.callsOf].filter(([, calls]) => calls.some(c => apis.includes(c.api))).map(([fn]) => fn);
    const fn = makers.length === 1 ? makers[0] : op.fn && makers.includes(op.fn.name) ? op.fn.name : null;
    if (fn) return `${this.base}:${fn}`;
    this.unmatched.push({ step: g.step.index, ...(g.step.line ? { scenarioLine: g.step.line } : {}), name: g.name,
      site: g.inferredFrom!.site!, range: op.fn?.nameRange ?? null,
      reason: makers.length ? `${g.inferredFrom!.name} traced ${g.name}, made by ${makers.map(m => `${m}()`).join(' or ')}: ambiguous`
        : `${g.inferredFrom!.name} traced ${g.name} but no function of ${this.base} makes a ${apis.join('/')} call` });
    return null;
  }

  place(g: Group): void {
    if (g.inferredFrom) {
      g.site = this.inferSite(g);
      if (!g.site) return;
    }
    const where = this.resolve(g.site);
    if (!where) {
      if (g.site !== null && (g.source === 'trace' || apiFamily(g.name) !== null)) this.otherFiles++;
      return;
    }
    const { fn, ref } = where;
    const scenarioLine = g.step.line;
    if (!fn) {
      this.unmatched.push({ step: g.step.index, ...(scenarioLine ? { scenarioLine } : {}), name: g.name, site: g.site!,
        reason: `no function ${ref.func ?? `at line ${ref.line}`} in ${this.base}`, range: null });
      return;
    }
    g.fn = fn;
    this.countFor(fn, g.step.index);
    const { calls, tracked } = this.candidates(fn, g, ref);
    if (!calls.length) {
      // IOMMU events the importer explains by a DMA call are shown with that call (attachVia), not here
      const via = g.source === 'trace' && typeof tracepointOf(g)?.via_step === 'number';
      if (tracked && !via) {
        this.unmatched.push({ step: g.step.index, ...(scenarioLine ? { scenarioLine } : {}), name: g.name, site: g.site!,
          reason: `${fn.name}() has no ${g.source === 'trace' ? TRACE_APIS[g.name].join('/') : g.name} call`, range: fn.nameRange });
      }
      return;
    }
    const key = `${fn.name}\0${g.source}\0${g.name}\0${ref.line ?? ''}`;
    const n = this.counters.get(key) ?? 0;
    this.counters.set(key, n + 1);
    const call = calls[n % calls.length];
    const text = g.source === 'trace' ? String(tracepointOf(g)?.text ?? '') : '';
    const invocation: BoundInvocation = {
      step: g.step.index, ...(scenarioLine ? { scenarioLine } : {}), name: g.name, args: g.args, result: g.result,
      site: g.site!, source: g.source, events: g.events,
      summary: g.source === 'trace' ? summarizeTracepoint(g.name, text, g.events) : summarize(g.name, g.args, g.result, g.events),
    };
    g.call = call;
    g.invocation = invocation;
    const list = this.outcomes.get(call);
    if (list) list.push(invocation); else this.outcomes.set(call, [invocation]);
    this.bound++;
  }
}

/** Imported `map`/`unmap` lines that the importer attributed to a later DMA call travel with that call. */
function attachVia(groups: Group[], byStep: Map<number, Group[]>): void {
  for (const g of groups) {
    const via = tracepointOf(g)?.via_step;
    if (g.source !== 'trace' || g.call || typeof via !== 'number') continue;
    const target = byStep.get(via)?.find(x => x.invocation);
    if (target?.invocation) target.invocation.events = [...g.events, ...target.invocation.events];
  }
}

function findingKey(f: { step: number | null; code: string; message: string }): string {
  return `${f.step}\0${f.code}\0${f.message}`;
}

function diagnostics(binder: Binder, report: Report, groups: Group[], byStep: Map<number, Group[]>): OutcomeDiagnostic[] {
  const out: OutcomeDiagnostic[] = [];
  const findingGroup = new Map<string, Group>();
  for (const g of groups) {
    for (const e of g.events) {
      if (e.kind === 'finding' && e.finding) findingGroup.set(findingKey(e.finding as Finding), g);
    }
  }
  const reviewed = new Set(binder.analysis.findings.map(f => `${f.line}\0${f.code}`));
  const sameAsReview = (range: SourceRange, code: string) => reviewed.has(`${range.start.line}\0${code}`);
  const place = (g: Group | undefined, site: string | null): { fn: FunctionInfo; range: SourceRange; onCall: boolean; site: string } | null => {
    const useSite = site ?? g?.site ?? null;
    const where = binder.resolve(useSite);
    if (!where?.fn) return null;
    if (g?.call && g.fn === where.fn) return { fn: where.fn, range: g.call.range, onCall: true, site: useSite! };
    return { fn: where.fn, range: where.fn.nameRange, onCall: false, site: useSite! };
  };
  report.findings.forEach((f, index) => {
    const g = findingGroup.get(findingKey(f));
    const step = f.step !== null ? byStep.get(f.step)?.[0]?.step : undefined;
    const at = place(g, f.site ?? g?.site ?? step?.site ?? null);
    if (!at) return;
    out.push({ kind: 'finding', index, step: f.step, severity: f.severity, code: f.code,
      message: `${f.message}${f.step !== null ? ` (step ${f.step})` : ''}`, site: at.site, function: at.fn.name,
      range: at.range, onCall: at.onCall, sameAsReview: sameAsReview(at.range, f.code) });
  });
  const seen = new Map<number, number>();
  report.faults.forEach((fault, index) => {
    const nth = seen.get(fault.step) ?? 0;
    seen.set(fault.step, nth + 1);
    const stepGroups = byStep.get(fault.step) ?? [];
    let k = 0;
    const g = stepGroups.find(x => x.events.some(e => e.kind === 'fault' && k++ === nth));
    const at = place(g, g?.site ?? stepGroups[0]?.step.site ?? null);
    if (!at) return;
    out.push({ kind: 'fault', index, step: fault.step, severity: 'error', code: `${fault.kind}-fault`,
      message: `${fault.message} (step ${fault.step})`, site: at.site, function: at.fn.name, range: at.range, onCall: at.onCall,
      sameAsReview: false });
  });
  return out;
}

export function bindOutcomes(analysis: Analysis, report: Report): Binding {
  const binder = new Binder(analysis);
  const groups: Group[] = [];
  const byStep = new Map<number, Group[]>();
  for (const step of report.steps) {
    const g = stepGroups(step);
    byStep.set(step.index, g);
    groups.push(...g);
  }
  for (const g of groups) binder.place(g);
  attachVia(groups, byStep);

  const calls: CallOutcome[] = [];
  for (const call of analysis.calls) {
    const invocations = binder.outcomes.get(call);
    if (invocations) calls.push({ call, invocations, ...describeCall(call, invocations) });
  }
  const diags = diagnostics(binder, report, groups, byStep);
  const functions: FunctionOutcome[] = analysis.functions.map(fn => {
    const mine = diags.filter(d => d.function === fn.name);
    return {
      function: fn,
      calls: binder.functionCalls.get(fn.name) ?? 0,
      faults: mine.filter(d => d.kind === 'fault').length,
      simFindings: mine.filter(d => d.kind === 'finding').length,
      reviewFindings: analysis.findings.filter(f => f.function === fn.name).length,
      faultIndexes: mine.filter(d => d.kind === 'fault').map(d => d.index),
      findingIndexes: mine.filter(d => d.kind === 'finding').map(d => d.index),
      steps: [...binder.functionSteps.get(fn.name) ?? []].sort((a, b) => a - b),
    };
  });
  const partial = {
    file: analysis.file,
    platform: report.platform?.name ?? report.scenario,
    pageSize: report.kernel.page_size,
    calls, functions, diagnostics: diags, unmatched: binder.unmatched,
    boundInvocations: binder.bound, otherFiles: binder.otherFiles,
  };
  return { ...partial, consequences: consequences(analysis, report, partial) };
}
