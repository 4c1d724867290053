// Fuzzing of what crosses the address map's message boundary in both directions, and of the settings
// (see targets/webview.ts and targets/webviewHost.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runFuzzTarget, selected } from './harness';

const module = path.join(__dirname, 'targets', 'webview.ts');

const SUITES = [
  { target: 'webview-message', title: 'every webview message is validated or rejected with the field named', runsPerSeed: 4000 },
  { target: 'host-message', title: 'every panel message is checked on arrival, or rejected with the field named', runsPerSeed: 1500 },
  { target: 'settings', title: 'any settings.json value gives valid overrides or an error naming the setting', runsPerSeed: 2000 },
];

for (const s of SUITES.filter(x => selected(x.target))) {
  test(`fuzz ${s.target}: ${s.title}`, { timeout: 120_000 }, async () => {
    const r = await runFuzzTarget({ module, target: s.target, runsPerSeed: s.runsPerSeed, caseTimeoutMs: 10_000, heapMb: 512 });
    assert.ok(r.cases >= s.runsPerSeed, `ran ${r.cases} cases`);
    console.log(`# ${s.target}: ${r.cases} cases in ${r.ms} ms (seeds ${r.seeds.join(', ')}); ${r.summary}`);
  });
}
