// Fuzzing of scenario files: mutated text through the loader, generated scenarios run with invariants on, raw
// bytes through the decoder. Each target runs in a child process (heap cap, per-case time bound); see harness.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runFuzzTarget, selected } from './harness';

const module = path.join(__dirname, 'targets', 'scenario.ts');

const SUITES = [
  { target: 'scenario-load', runsPerSeed: 1500, caseTimeoutMs: 10_000 },
  { target: 'scenario-run', runsPerSeed: 700, caseTimeoutMs: 20_000 },
  { target: 'scenario-bytes', runsPerSeed: 1000, caseTimeoutMs: 10_000 },
  { target: 'scenario-reuse', runsPerSeed: 1000, caseTimeoutMs: 10_000 },
];

for (const s of SUITES.filter(x => selected(x.target))) {
  test(`fuzz ${s.target}: only results or clear errors`, { timeout: 240_000 }, async () => {
    const r = await runFuzzTarget({ module, heapMb: 1024, ...s });
    assert.ok(r.cases >= Math.min(s.runsPerSeed, 1), `ran ${r.cases} cases`);
    console.log(`# ${s.target}: ${r.cases} cases in ${r.ms} ms (seeds ${r.seeds.join(', ')}); ${r.summary}`);
  });
}
