// Every scenario in examples/ runs with its expect: blocks, as `iommu-lens run` would, with the simulator's
// invariants checked after every step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadSession } from '../../simulator/session';

const dir = path.resolve(__dirname, '../../examples');
const files = fs.readdirSync(dir).filter(f => /\.iommu\.(ya?ml|json)$/.test(f)).sort();

test('examples/ holds scenarios', () => {
  assert.ok(files.length >= 6, `only ${files.length} example scenarios`);
});

for (const f of files) {
  test(`example ${f} runs and every expectation holds`, () => {
    // every simulator invariant (simulator/invariants.ts) is checked after each step
    const s = loadSession(fs.readFileSync(path.join(dir, f), 'utf8'), path.join('examples', f), { checkInvariants: true });
    s.runAll();
    const failures = s.expectationFailures().map(x => `step ${x.step.index} (${x.step.op}, line ${x.step.pos.line}): ${x.failures.join('; ')}`);
    assert.deepEqual(failures, []);
    const checked = s.runs.filter(r => r.spec.expect).length;
    assert.ok(checked > 0, `${f} checks nothing: add expect: blocks`);
  });
}
