// Differential fuzzing of the fast YAML path against the yaml package (see targets/yaml.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runFuzzTarget, selected } from './harness';

const module = path.join(__dirname, 'targets', 'yaml.ts');

if (selected('yaml-differential')) {
  test('fuzz yaml-differential: the fast parser reads what the yaml package reads', { timeout: 240_000 }, async () => {
    const r = await runFuzzTarget({ module, target: 'yaml-differential', runsPerSeed: 2000, caseTimeoutMs: 10_000, heapMb: 1024 });
    assert.ok(r.cases >= 2000, `ran ${r.cases} cases`);
    console.log(`# yaml-differential: ${r.cases} cases in ${r.ms} ms (seeds ${r.seeds.join(', ')}); ${r.summary}`);
  });
}
