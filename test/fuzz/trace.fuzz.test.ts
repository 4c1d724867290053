// Fuzzing of kernel trace import (see targets/trace.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runFuzzTarget, selected } from './harness';

const module = path.join(__dirname, 'targets', 'trace.ts');

if (selected('trace')) {
  test('fuzz trace: damaged traces import with every bad line skipped and listed', { timeout: 240_000 }, async () => {
    const r = await runFuzzTarget({ module, target: 'trace', runsPerSeed: 800, caseTimeoutMs: 15_000, heapMb: 1024 });
    assert.ok(r.cases >= 800, `ran ${r.cases} cases`);
    console.log(`# trace: ${r.cases} cases in ${r.ms} ms (seeds ${r.seeds.join(', ')}); ${r.summary}`);
  });
}
