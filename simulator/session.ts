// A run of a scenario that can be stepped, run to a point, reset and inspected. The CLI runs it to the
// end; the extension steps it and rebuilds its views from snapshot() after every change.
import type { SimEvent } from './core/events';
import { Kernel, KernelOops, hasModel } from './kernel';
import { bootIommus } from './iommu/core';
import { checkScanouts } from './iommu/access';
import type { KernelConfig, Scenario, StepSpec } from './scenario/types';
import { ScenarioError } from './scenario/types';
import { loadScenario } from './scenario/loader';
import type { Report, ReportStep } from './report/types';
import { buildReport, stepRecord } from './report/build';
import { traceLine } from './trace/tracepoints';
import { getOpHandler, makeContext } from './runner/ops';
import { stepArgs } from './runner/resolve';
import { checkExpect } from './runner/expect';
import { runAfterStep, runAtBoot } from './runner/hooks';
import { LIMITS, LimitError, armStepBudget, memoryProblem } from './limits';
import { InvariantError, checkInvariants } from './invariants';
import './simulator-all';

export interface SessionOptions {
  /** keep every event per step (the JSON report and the views need them; a 1M-step CLI text run does not) */
  collectEvents?: boolean;
  /** overrides of the scenario's kernel settings (the extension's CPU page size, strict/lazy, large-page switches) */
  kernel?: Partial<Omit<KernelConfig, 'options'>>;
  /** record tracepoint lines (default true); the CLI turns it off unless --trace is given */
  trace?: boolean;
  /** check simulator invariants after every step (simulator/invariants.ts); default: IOMMU_LENS_INVARIANTS=1 */
  checkInvariants?: boolean;
  /**
   * keep the StepRun of only the first N steps in `runs` (the CLI's text report lists 200); counts, expectation
   * failures and everything in the kernel are kept for every step. Default: every step's StepRun.
   */
  keepRuns?: number;
}

export interface StepRun {
  spec: StepSpec;
  result: unknown;
  events: SimEvent[];
  findings: number[];          // indexes into kernel.findings
  faults: number;
  exposed: number;
  expectFailures: string[];
}

/** A step with no events, findings or failed expectations shares these (frozen: a million steps, no arrays). */
const NO_EVENTS: SimEvent[] = Object.freeze([]) as unknown as SimEvent[];
const NO_FINDINGS: number[] = Object.freeze([]) as unknown as number[];
const NO_FAILURES: string[] = Object.freeze([]) as unknown as string[];

export class Session {
  kernel!: Kernel;
  /** every step's StepRun, or only the first `keepRuns` of them */
  readonly runs: StepRun[] = [];
  /** steps run so far (runs.length unless keepRuns dropped some) */
  private ran = 0;
  /** steps run that had an `expect:`, and those whose expectations failed (kept whatever keepRuns says) */
  private expectChecked = 0;
  private readonly failedRuns: StepRun[] = [];
  private bindings = new Map<string, unknown>();
  private current: SimEvent[] | null = null;
  /** events of the running step past LIMITS.eventsPerStep: counted, not kept */
  private droppedEvents = 0;
  private readonly invariants: boolean;
  oops: string | null = null;

  constructor(readonly scenario: Scenario, private readonly opts: SessionOptions = {}) {
    this.invariants = opts.checkInvariants ?? process.env.IOMMU_LENS_INVARIANTS === '1';
    this.boot();
  }

  get bus() { return this.kernel.bus; }
  get cursor(): number { return this.ran; }
  get total(): number { return this.scenario.steps.length; }
  get done(): boolean { return this.oops !== null || this.ran >= this.scenario.steps.length; }
  /** steps run that had an `expect:` block */
  get expectationsChecked(): number { return this.expectChecked; }

  private boot(): void {
    for (const spec of this.scenario.platform.iommus) {
      if (!hasModel(spec.model)) throw new ScenarioError(spec.pos, `no IOMMU model '${spec.model}'`);
    }
    const cfg = { ...this.scenario.kernel, ...this.opts.kernel };
    const { memory } = this.scenario.platform;
    const tooBig = memoryProblem(memory.base, memory.size, cfg.page_size);
    if (tooBig) throw new ScenarioError(this.scenario.platform.pos, tooBig);
    try {
      this.kernel = new Kernel(cfg, this.scenario.platform);
    } catch (e) {
      if (e instanceof ScenarioError) throw e;
      throw new ScenarioError(this.scenario.platform.pos, (e as Error).message);
    }
    this.kernel.traceEnabled = this.opts.trace !== false;
    if (this.opts.collectEvents !== false) {
      this.kernel.bus.on(e => {
        const cur = this.current;
        if (!cur) return;
        if (cur.length < LIMITS.eventsPerStep) cur.push(e);
        else this.droppedEvents++;
      });
    }
    this.kernel.step = -1;
    bootIommus(this.kernel);
    runAtBoot(this.kernel);
  }

  reset(): void {
    this.runs.length = 0;
    this.ran = 0;
    this.expectChecked = 0;
    this.failedRuns.length = 0;
    this.bindings = new Map();
    this.oops = null;
    this.boot();
  }

  /** Runs the next step; a ScenarioError (bad reference, unknown device) propagates with its position. */
  step(): ReportStep | undefined {
    const run = this.advance();
    return run ? stepRecord(this, run) : undefined;
  }

  /** step() without building the step's report record (runs to a point or to the end do not look at it). */
  advance(): StepRun | undefined {
    if (this.done) return undefined;
    const spec = this.scenario.steps[this.ran];
    const k = this.kernel;
    k.step = spec.index;
    k.bus.step = spec.index;
    k.site = spec.site ?? null;
    const events: SimEvent[] = this.opts.collectEvents === false ? NO_EVENTS : [];
    this.droppedEvents = 0;
    this.current = this.opts.collectEvents === false ? null : events;
    const findingsBefore = k.findings.length;
    const faultsBefore = k.faults.length;
    const handler = getOpHandler(spec.op);
    if (!handler) throw new ScenarioError(spec.pos, `op '${spec.op}' is known to the loader but this build has no implementation of it`);
    const args = stepArgs(spec, this.bindings);
    const ctx = makeContext(k, spec, this.bindings);
    let result: unknown;
    armStepBudget(k, true);
    try {
      result = handler(ctx, args);
      if (result === undefined) result = null;
      k.api(spec.op, args, result);
      checkScanouts(k);
      runAfterStep(k);
    } catch (e) {
      armStepBudget(k, false);
      if (e instanceof LimitError) {
        this.current = null;
        throw new ScenarioError((e.arg !== undefined && spec.argPos[e.arg]) || spec.pos, `step ${spec.index} (${spec.op}): ${e.message}`);
      }
      if (!(e instanceof KernelOops)) throw e;
      result = { oops: e.message };
      this.oops = e.message;
    }
    armStepBudget(k, false);
    if (this.droppedEvents > 0) {
      events.push({ kind: 'printk', level: 'warn', text: `iommu-lens: ${this.droppedEvents} more events of this step were not kept ` +
        `(at most ${LIMITS.eventsPerStep} per step; see docs/limits.md)` });
      this.droppedEvents = 0;
    }
    this.current = null;
    if (spec.as) this.bindings.set(spec.as, result);
    let findings = NO_FINDINGS;
    if (k.findings.length > findingsBefore) {
      findings = [];
      for (let i = findingsBefore; i < k.findings.length; i++) findings.push(i);
    }
    const run: StepRun = { spec, result, events, findings, faults: k.faults.length - faultsBefore, exposed: ctx.exposed, expectFailures: NO_FAILURES };
    if (spec.expect) {
      this.expectChecked++;
      const failures = checkExpect(spec.expect, {
        result, faults: run.faults, exposed: run.exposed, findings: findings.map(i => k.findings[i].code),
      });
      if (failures.length) {
        run.expectFailures = failures;
        this.failedRuns.push(run);
      }
    }
    if (this.opts.keepRuns === undefined || this.ran < this.opts.keepRuns) this.runs.push(run);
    this.ran++;
    if (this.invariants && this.oops === null) this.checkStep(spec);
    return run;
  }

  /** After a step with invariant checks on: throws InvariantError naming the step. */
  private checkStep(spec: StepSpec): void {
    const violations = checkInvariants(this.kernel);
    if (violations.length) throw new InvariantError(spec.index, spec.op, violations);
  }

  /** Runs up to (not including) step `index`, yielding to the event loop so a UI stays responsive. */
  async runTo(index: number, opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<void> {
    const end = Math.min(index, this.total);
    while (this.cursor < end && !this.done) {
      if (opts.signal?.aborted) throw new Error('cancelled');
      const chunkEnd = Math.min(end, this.cursor + 2000);
      while (this.cursor < chunkEnd && !this.done) this.advance();
      opts.onProgress?.(this.cursor, this.total);
      if (this.cursor < end && !this.done) await new Promise(r => setImmediate(r));
    }
  }

  runToEnd(opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<void> {
    return this.runTo(this.total, opts);
  }

  /** Synchronous run to the end (CLI). */
  runAll(): void {
    while (!this.done) this.advance();
  }

  /** `maxSteps` keeps only the first steps' records (a text report of a long run shows 200). */
  snapshot(opts: { maxSteps?: number } = {}): Report {
    return buildReport(this, opts);
  }

  traceLines(): string[] {
    return this.kernel.trace.map(t => traceLine(t.name, t.text, t.seq));
  }

  /** Per-level walk of a domain's page table for the map's walk panel. */
  walk(domainId: string, iova: number) {
    const d = this.kernel.domains.get(domainId);
    if (!d || !d.pgtable) return [];
    return d.pgtable.walk(iova);
  }

  expectationFailures(): Array<{ step: StepSpec; failures: string[] }> {
    return this.failedRuns.map(r => ({ step: r.spec, failures: r.expectFailures }));
  }
}

export function loadSession(text: string, file: string, opts?: SessionOptions): Session {
  return new Session(loadScenario(text, file), opts);
}
