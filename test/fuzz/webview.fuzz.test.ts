// Fuzzing of the inputs the extension host takes from outside its code: webview messages and settings
// (see targets/webview.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runFuzzTarget, selected } from './harness';

const module = path.join(__dirname, 'targets', 'webview.ts');

const SUITES = [
  { target: 'webview-message', title: 'every webview message is validated or rejected with the field named', runsPerSeed: 4000 },
  { target: 'settings', title: 'any settings.json value gives valid overrides or an error naming the setting', runsPerSeed: 2000 },
];

for (const s of SUITES.filter(x => selected(x.target))) {
  test(`fuzz ${s.target}: ${s.title}`, { timeout: 120_000 }, async () => {
    const r = await runFuzzTarget({ module, target: s.target, runsPerSeed: s.runsPerSeed, caseTimeoutMs: 10_000, heapMb: 512 });
    assert.ok(r.cases >= s.runsPerSeed, `ran ${r.cases} cases`);
    console.log(`# ${s.target}: ${r.cases} cases in ${r.ms} ms (seeds ${r.seeds.join(', ')}); ${r.summary}`);
  });
}
