// Child side of the fuzz harness (harness.ts forks it): runs one target over the given seeds with fast-check,
// reports each case before running it (so a hang or a crash names its case), and writes a failing input to
// test-results/fuzz/ for replay.
import fs from 'node:fs';
import fc from 'fast-check';
import { caseFile } from './harness';

/** One input surface: how to generate an input, what an acceptable outcome is, and how to save the input. */
export interface FuzzTarget<T> {
  arbitrary: fc.Arbitrary<T>;
  /** throws (assert) when the outcome is not acceptable */
  check(input: T): void;
  /** the input as a file someone can open or feed to the product again */
  show(input: T): string;
  init?(): Promise<void>;
  /** after every seed ran: throws when the cases did not reach what the target is for (a vacuous run) */
  finish?(): void;
  /** one line of figures for the test log (what the cases reached) */
  summary?(): string;
}

export interface ChildRequest {
  module: string;
  target: string;
  seeds: number[];
  runs: number;
  /** replay one case (a fast-check path) */
  path?: string;
  /** only write the input at `path` to a file */
  dumpOnly?: boolean;
}

export type ChildReport =
  | { t: 'case'; seed: number; n: number }
  | { t: 'fail'; seed: number; path: string; error: string; file: string; size: number; preview: string }
  | { t: 'dumped'; file: string }
  | { t: 'done'; summary?: string };

function send(m: ChildReport): void {
  process.send!(m);
}

function save(target: string, seed: number, p: string, text: string): string {
  const file = caseFile(target, seed, p);
  fs.writeFileSync(file, text);
  return file;
}

function preview(text: string): string {
  const head = text.slice(0, 600);
  // control characters and lone surrogates shown escaped, so the terminal shows what the input holds
  return head.replace(/[\u0000-\u0008\u000b-\u001f\u007f\ud800-\udfff]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) +
    (text.length > 600 ? `\n... (${text.length - 600} more characters)` : '');
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2]) as ChildRequest;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(req.module) as { targets: Record<string, FuzzTarget<unknown>> };
  const target = mod.targets[req.target];
  if (!target) throw new Error(`${req.module} has no fuzz target '${req.target}'`);
  await target.init?.();
  for (const seed of req.seeds) {
    if (req.dumpOnly) {
      fc.check(fc.property(target.arbitrary, x => {
        send({ t: 'dumped', file: save(req.target, seed, req.path!, target.show(x)) });
        return true;
      }), { seed, numRuns: 1, path: req.path });
      continue;
    }
    let n = req.path ? Number(req.path.split(':')[0]) : 0;
    let failing = -1;
    const result = fc.check(fc.property(target.arbitrary, x => {
      // while shrinking, progress still names the case that failed first
      send({ t: 'case', seed, n: failing >= 0 ? failing : n });
      try {
        target.check(x);
      } catch (e) {
        if (failing < 0) failing = n;
        throw e;
      } finally {
        if (failing < 0) n++;
      }
    }), { seed, numRuns: req.path ? 1 : req.runs, path: req.path });
    if (result.failed) {
      const input = target.show(result.counterexample![0]);
      const p = result.counterexamplePath ?? String(failing);
      const err = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
      send({ t: 'fail', seed, path: p, error: err.slice(0, 2000), file: save(req.target, seed, p, input), size: input.length, preview: preview(input) });
      return;
    }
  }
  if (!req.path) {
    try {
      target.finish?.();
    } catch (e) {
      send({ t: 'fail', seed: req.seeds[0], path: '-', error: `after all cases: ${(e as Error).message}`, file: '-', size: 0, preview: '' });
      return;
    }
  }
  send({ t: 'done', summary: target.summary?.() });
}

main().then(() => process.disconnect?.(), e => {
  process.stderr.write(`fuzz child: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
