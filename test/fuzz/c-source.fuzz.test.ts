// Fuzzing of the driver C source analysis (see targets/c-source.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runFuzzTarget, selected } from './harness';

const module = path.join(__dirname, 'targets', 'c-source.ts');

if (selected('c-source')) {
  test('fuzz c-source: hostile C never breaks the analysis', { timeout: 240_000 }, async () => {
    const r = await runFuzzTarget({ module, target: 'c-source', runsPerSeed: 700, caseTimeoutMs: 20_000, heapMb: 1536 });
    assert.ok(r.cases >= 700, `ran ${r.cases} cases`);
    console.log(`# c-source: ${r.cases} cases in ${r.ms} ms (seeds ${r.seeds.join(', ')}); ${r.summary}`);
  });
}
