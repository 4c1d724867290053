// Sampling and summary statistics shared by every measurement. A measurement runs its subject and its floor
// in the same process, interleaved sample by sample, so a burst of load from other processes on this shared
// 2-core machine hits both alike and the ratio stays meaningful even when the absolute figures wobble.

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], runs: s.length };
}

/** Wall-clock milliseconds since an arbitrary origin. */
export const nowMs = (): number => performance.now();

/** CPU milliseconds (user + system, all threads of this process) since an arbitrary origin. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface Timed { wallMs: number; cpuMs: number }

export function timeOnce(fn: () => void): Timed {
  const c0 = cpuMs();
  const t0 = nowMs();
  fn();
  const t1 = nowMs();
  return { wallMs: t1 - t0, cpuMs: cpuMs() - c0 };
}

export async function timeOnceAsync(fn: () => Promise<void>): Promise<Timed> {
  const c0 = cpuMs();
  const t0 = nowMs();
  await fn();
  const t1 = nowMs();
  return { wallMs: t1 - t0, cpuMs: cpuMs() - c0 };
}

/** A loop body run `n` times per sample; returns something the loop folds in so the JIT cannot drop it. */
export type Batch = (n: number) => number;

export interface PairedSamples {
  /** per-iteration wall time, in the unit asked for */
  subject: number[];
  floor: number[];
  /** per-iteration CPU time of the subject, same unit */
  subjectCpu: number[];
  iterations: number;
}

export interface PairedOptions {
  warmupSamples: number;
  samples: number;
  /** wall time one subject sample should take (the batch size is calibrated during warm-up) */
  targetSampleMs: number;
  /** multiplier from milliseconds per iteration to the reported unit (1000 for µs) */
  unitPerMs: number;
  maxIterations?: number;
}

let sink = 0;
/** Keeps results alive across batches (read by nobody, written by every batch). */
export function consume(x: number): void { sink = (sink + x) | 0; }
export function sinkValue(): number { return sink; }

/**
 * Calibrates a batch size so one subject sample takes about `targetSampleMs`, warms both loops up, then
 * takes `samples` alternating subject/floor samples of that many iterations each.
 */
export function pairedSamples(subject: Batch, floor: Batch, o: PairedOptions): PairedSamples {
  let n = 64;
  const cap = o.maxIterations ?? 5_000_000;
  for (;;) {
    const t = timeOnce(() => consume(subject(n)));
    if (t.wallMs >= o.targetSampleMs / 4 || n >= cap) {
      n = Math.max(1, Math.min(cap, Math.round(n * o.targetSampleMs / Math.max(t.wallMs, 0.001))));
      break;
    }
    n *= 4;
  }
  for (let i = 0; i < o.warmupSamples; i++) {
    consume(subject(n));
    consume(floor(n));
  }
  // the first calibration ran cold code: size the batch again now that the loop is optimised
  const again = timeOnce(() => consume(subject(n)));
  n = Math.max(1, Math.min(cap, Math.round(n * Math.min(4, Math.max(0.25, o.targetSampleMs / Math.max(again.wallMs, 0.001))))));
  const out: PairedSamples = { subject: [], floor: [], subjectCpu: [], iterations: n };
  for (let i = 0; i < o.samples; i++) {
    const s = timeOnce(() => consume(subject(n)));
    const f = timeOnce(() => consume(floor(n)));
    out.subject.push(s.wallMs / n * o.unitPerMs);
    out.subjectCpu.push(s.cpuMs / n * o.unitPerMs);
    out.floor.push(f.wallMs / n * o.unitPerMs);
  }
  return out;
}

/** Round for display: 3 significant digits; integers stay as they are. */
export function sig(x: number, digits = 3): number {
  if (!Number.isFinite(x) || Number.isInteger(x)) return x;
  return Number(x.toPrecision(digits));
}
