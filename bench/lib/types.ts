// What a measurement is and what it reports. The orchestrator (run.ts) runs every measurement in a child
// process of its own (worker.ts) and prints the results as a table or as JSON.
import { summarize, type Summary } from './stats';
import type { CatalogEntry } from '../catalog';

export interface Target {
  /** the figure must not exceed this, in the measurement's unit */
  max: number;
  /** and must not exceed this many times its floor (null: no ratio target) */
  ratio: number | null;
  /** how the issue states it, e.g. "≤ 1 µs/pair, ≤ 3× floor" */
  text: string;
}

/** What a measurement's run() gives back. */
export type Outcome =
  | {
      kind: 'ran';
      value: Summary;
      floor: Summary | null;
      /** what the floor is, in a few words */
      floorWhat: string;
      note?: string;
      /** CPU time of the subject (user + system of this process) in the same unit, where it means something */
      cpu?: Summary;
      /** further figures worth keeping (sizes, counts) */
      extra?: Record<string, unknown>;
    }
  | { kind: 'skipped'; reason: string }
  /** the subsystem is there but the measurement threw or timed out: no figure */
  | { kind: 'error'; message: string };

export interface MeasureContext {
  root: string;
  /** directory for generated inputs (removed by the orchestrator afterwards) */
  tmp: string;
  /** directory of the bench bundles */
  buildDir: string;
  /** with --cpu-prof DIR: where measurements that profile other processes (chromium, the extension host) write */
  profileDir?: string;
  log: (msg: string) => void;
}

export type MeasureFn = (ctx: MeasureContext) => Promise<Outcome>;

/** What every bench/measures/MODULE.ts exports: runs the named measurements, in order, in this process. */
export type ModuleMeasure = (names: readonly string[], ctx: MeasureContext) => Promise<Record<string, Outcome>>;

/** A module whose measurements are independent of each other. */
export function measureEach(fns: Record<string, MeasureFn>): ModuleMeasure {
  return async (names, ctx) => {
    const out: Record<string, Outcome> = {};
    for (const n of names) {
      const f = fns[n];
      if (!f) { out[n] = { kind: 'error', message: `this module has no measurement '${n}'` }; continue; }
      try {
        out[n] = await f(ctx);
      } catch (e) {
        out[n] = { kind: 'error', message: errorText(e) };
      }
    }
    return out;
  };
}

export function errorText(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 6).join('\n') : String(e);
}

/** One line of `npm run bench -- --json`. */
export interface Result {
  name: string;
  value: number | null;
  unit: string;
  floor: number | null;
  ratio: number | null;
  target: string;
  targetMax: number;
  targetRatio: number | null;
  /** true / false when measured; null when skipped */
  met: boolean | null;
  min: number | null;
  max: number | null;
  runs: number;
  /** median CPU time of the subject in the same unit (null where not measured): on a loaded machine the
   *  wall-clock value includes waiting for a core, this does not */
  cpu: number | null;
  floorMin?: number | null;
  floorMax?: number | null;
  floorWhat?: string;
  skipped?: string;
  error?: string;
  note?: string;
  extra?: Record<string, unknown>;
  seconds: number;
}

export function skipped(reason: string): Outcome {
  return { kind: 'skipped', reason };
}

export function ran(value: number[], floor: number[] | null, floorWhat: string,
  more: { note?: string; extra?: Record<string, unknown>; cpu?: number[] } = {}): Outcome {
  const { cpu, ...rest } = more;
  return {
    kind: 'ran', value: summarize(value), floor: floor && floor.length ? summarize(floor) : null, floorWhat,
    ...(cpu && cpu.length ? { cpu: summarize(cpu) } : {}), ...rest,
  };
}

/** Turns a child's outcome into the reported line: ratio and target check. */
export function toResult(m: CatalogEntry, o: Outcome, seconds: number): Result {
  const base = { name: m.name, unit: m.unit, target: m.target.text, targetMax: m.target.max, targetRatio: m.target.ratio, seconds };
  if (o.kind === 'skipped') {
    return { ...base, value: null, floor: null, ratio: null, met: null, min: null, max: null, runs: 0, cpu: null, skipped: o.reason };
  }
  if (o.kind === 'error') {
    return { ...base, value: null, floor: null, ratio: null, met: false, min: null, max: null, runs: 0, cpu: null, error: o.message };
  }
  const value = o.value.median;
  const floor = o.floor ? o.floor.median : null;
  const ratio = floor !== null && floor > 0 ? value / floor : null;
  const metAbs = value <= m.target.max;
  const metRatio = m.target.ratio === null || (ratio !== null && ratio <= m.target.ratio);
  return {
    ...base, value, floor, ratio, met: metAbs && metRatio, min: o.value.min, max: o.value.max, runs: o.value.runs,
    cpu: o.cpu ? o.cpu.median : null,
    floorMin: o.floor?.min ?? null, floorMax: o.floor?.max ?? null, floorWhat: o.floorWhat,
    ...(o.note ? { note: o.note } : {}), ...(o.extra ? { extra: o.extra } : {}),
  };
}
