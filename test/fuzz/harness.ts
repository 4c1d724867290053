// The fuzz harness: every target runs in a child process with a heap cap, under a watchdog that kills it when
// one case takes too long. Seeds: two fixed ones plus a rotating one (IOMMU_LENS_FUZZ_SEED, else today's
// date), so CI explores new inputs every day while a failure stays replayable:
//   IOMMU_LENS_FUZZ_SEED=<seed> IOMMU_LENS_FUZZ_PATH=<path> node --import tsx --test test/fuzz/<suite>.fuzz.test.ts
// runs exactly the failing case (and nothing else) of every target in that file. A failure prints the seed,
// the fast-check path and a file under test-results/fuzz/ holding the input.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ChildRequest, ChildReport } from './child';

export const FIXED_SEEDS = [0x10e1a, 20260115];
export const REPO = path.resolve(__dirname, '..', '..');
export const OUT_DIR = path.join(REPO, 'test-results', 'fuzz');

/** The rotating seed: IOMMU_LENS_FUZZ_SEED, else the UTC date as YYYYMMDD. */
export function rotatingSeed(): number {
  const env = process.env.IOMMU_LENS_FUZZ_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isSafeInteger(n)) throw new Error(`IOMMU_LENS_FUZZ_SEED=${env} is not an integer`);
    return n;
  }
  const d = new Date();
  return d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

/** IOMMU_LENS_FUZZ_ONLY=name[,name]: run only these targets (for iterating on one input surface). */
export function selected(target: string): boolean {
  const only = process.env.IOMMU_LENS_FUZZ_ONLY;
  return !only || only.split(',').includes(target);
}

/** Cases per seed, scaled by IOMMU_LENS_FUZZ_SCALE for longer local runs (e.g. 10). */
export function scaled(runs: number): number {
  const scale = Number(process.env.IOMMU_LENS_FUZZ_SCALE ?? 1);
  return Math.max(1, Math.round(runs * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

export interface FuzzRunOptions {
  /** module (absolute path) exporting `targets` */
  module: string;
  target: string;
  runsPerSeed: number;
  /** a single case taking longer than this is a hang */
  caseTimeoutMs: number;
  /** heap cap of the child; exceeding it is a memory blow-up */
  heapMb: number;
}

export interface FuzzSummary { cases: number; ms: number; seeds: number[]; summary: string }

/**
 * Runs one target in a child process over every seed. Resolves with the case count, or rejects with an error
 * whose message says how to replay the failing input and where it was written.
 */
export function runFuzzTarget(o: FuzzRunOptions): Promise<FuzzSummary> {
  const replayPath = process.env.IOMMU_LENS_FUZZ_PATH;
  const seeds = replayPath ? [rotatingSeed()] : [...FIXED_SEEDS, rotatingSeed()];
  const req: ChildRequest = { module: o.module, target: o.target, seeds, runs: scaled(o.runsPerSeed), path: replayPath || undefined };
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'child.ts'), [JSON.stringify(req)], {
      execArgv: ['--import', 'tsx', `--max-old-space-size=${o.heapMb}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      cwd: REPO,
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => { if (stderr.length < 20000) stderr += b.toString(); });
    let current: { seed: number; n: number } | null = null;
    let lastProgress = Date.now();
    let cases = 0;
    let settled = false;
    let summary = '';
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      if (err) reject(err); else resolve({ cases, ms: Date.now() - started, seeds, summary });
    };
    let dying = false;
    const lost = async (what: string) => {
      if (dying) return;
      dying = true;
      clearInterval(watchdog);
      const at = current;
      const where = at ? await dumpCase(o, at.seed, String(at.n)) : '(before the first case)';
      finish(new Error(`fuzz ${o.target}: ${what} at seed ${at?.seed}, path ${at?.n}: ${where}\n` +
        (at ? replayHint(at.seed, String(at.n)) : '') + (stderr ? `\nchild stderr:\n${stderr.slice(-3000)}` : '')));
    };
    const watchdog = setInterval(() => {
      if (Date.now() - lastProgress > o.caseTimeoutMs) {
        child.kill('SIGKILL');
        void lost(`one case ran longer than ${o.caseTimeoutMs} ms (hang)`);
      }
    }, 250);
    child.on('message', (m: ChildReport) => {
      lastProgress = Date.now();
      if (m.t === 'case') { current = { seed: m.seed, n: m.n }; cases++; }
      else if (m.t === 'fail') {
        finish(new Error(`fuzz ${o.target} failed at seed ${m.seed}, path ${m.path}: ${m.error}\n` +
          `input (${m.size} characters) written to ${m.file}${m.preview ? `; it begins:\n${m.preview}` : ''}\n${replayHint(m.seed, m.path)}`));
      } else if (m.t === 'done') {
        summary = m.summary ?? '';
        finish(null);
      }
    });
    // 'close', not 'exit': a fast child's last IPC messages ('case' … 'done') can still be queued when 'exit'
    // fires, which read as a death mid-run; 'close' comes after the channel has been drained.
    child.on('close', (code, signal) => {
      if (settled) return;
      const oom = /heap out of memory|Allocation failed/i.test(stderr);
      void lost(oom ? `the child ran out of its ${o.heapMb} MB heap (memory blow-up)` : `the child died (exit ${code ?? signal})`);
    });
  });
}

function replayHint(seed: number, p: string): string {
  return `replay: IOMMU_LENS_FUZZ_SEED=${seed} IOMMU_LENS_FUZZ_PATH=${p} node --import tsx --test <this fuzz file>`;
}

/** Re-generates the case at (seed, path) without running it and writes it to a file; returns the file. */
function dumpCase(o: FuzzRunOptions, seed: number, p: string): Promise<string> {
  const req: ChildRequest = { module: o.module, target: o.target, seeds: [seed], runs: 1, path: p, dumpOnly: true };
  return new Promise(resolve => {
    const child = fork(path.join(__dirname, 'child.ts'), [JSON.stringify(req)], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=2048'], stdio: ['ignore', 'ignore', 'ignore', 'ipc'], cwd: REPO,
    });
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve('(the input could not be regenerated)'); }, 60_000);
    child.on('message', (m: ChildReport) => {
      if (m.t === 'dumped') { clearTimeout(timer); resolve(`input written to ${m.file}`); }
    });
    child.on('close', () => { clearTimeout(timer); resolve('(the input could not be regenerated)'); });
  });
}

/** Where a failing input goes: test-results/fuzz/TARGET-SEED-PATH.txt */
export function caseFile(target: string, seed: number, p: string): string {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  return path.join(OUT_DIR, `${target}-${seed}-${p.replace(/:/g, '_').slice(0, 80)}.txt`);
}
