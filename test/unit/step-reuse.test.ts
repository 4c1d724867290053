// Steps made again from an earlier step with the same text (simulator/scenario/step-templates.ts) are the steps
// the parser and the checks would give: same JSON (positions included), same errors, same run results and
// messages at their own lines. Also the session's compact mode for long CLI runs (keepRuns).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../simulator/simulator-all';
import { loadScenario } from '../../simulator/scenario/loader';
import { TemplateStep } from '../../simulator/scenario/step-templates';
import { ScenarioError, type RefExpr } from '../../simulator/scenario/types';
import { Session } from '../../simulator/session';

const FILE = 'r.iommu.yaml';
const HEAD = 'platform: generic-4k\nsteps:\n  - probe: dma0\n  - kmalloc: { size: 4K }\n    as: b\n';
const MAP = '  - dma_map_single: { dev: dma0, paddr: $b.paddr, size: 4K, dir: to_device }\n    as: h\n    site: drv.c:queue\n';
const UNMAP = '  - dma_unmap_single: { dev: dma0, dma: $h, size: 4K, dir: to_device }\n';

function outcome(text: string, reuseSteps: boolean): string {
  try {
    const s = loadScenario(text, FILE, { reuseSteps });
    return JSON.stringify({ steps: s.steps, rebinds: s.rebinds });
  } catch (e) {
    if (e instanceof ScenarioError) return e.format();
    throw e;
  }
}

function assertSameBothWays(text: string): string {
  const fresh = outcome(text, false);
  assert.equal(outcome(text, true), fresh);
  return fresh;
}

const reused = (text: string) => loadScenario(text, FILE).steps.filter(s => s instanceof TemplateStep).length;

test('repeated steps are made again from the first, and load exactly as parsed ones', () => {
  const text = HEAD + (MAP + '  - dma_read: { dev: dma0, addr: "$h + 0x40", size: 64 }\n' + UNMAP).repeat(50);
  assertSameBothWays(text);
  assert.equal(reused(text), 147, 'every repeat after the first of each text');
  const s = loadScenario(text, FILE);
  const last = s.steps[s.steps.length - 2];
  assert.ok(last instanceof TemplateStep);
  // positions moved to the repeat's own line: the op, each argument key, each reference
  assert.deepEqual(last.pos, { file: FILE, line: 6 + 49 * 5 + 3, col: 5 });
  assert.deepEqual(last.argPos.addr, { file: FILE, line: last.pos.line, col: 28 });
  assert.deepEqual((last.args as { addr: RefExpr }).addr.pos, { file: FILE, line: last.pos.line, col: 34 });
  assert.equal(s.rebinds.length, 49, 'each repeated as: h rebinds the name');
  assert.equal(s.steps[s.steps.length - 3].site, 'drv.c:queue');
});

test('items that end in comments, blank lines or deeper lines load the same with and without reuse', () => {
  const variants = [
    MAP + '\n' + MAP + '# between\n' + MAP,                                            // blank and comment lines between items
    MAP.replace('\n    as: h', ' # mapped\n    as: h') + MAP.replace('\n    as: h', ' # mapped\n    as: h'),   // trailing comments
    MAP + MAP.replace('    site', '    # note\n    site') + MAP,                        // a comment line inside an item
    MAP + MAP + '      deeper: 1\n',                                                   // a line deeper than the item's keys
    MAP + MAP + '   as: x\n',                                                         // a line between the list and the keys
    MAP + MAP + '---\n',                                                              // a document marker after a repeat
    MAP + MAP.replace('$b.paddr', '$c.paddr') + MAP,                                   // an unknown reference in a later item
    MAP + MAP + '  - dma_map_single: { dev: dma0, paddr: $b.paddr, size: 4K, dir: to_device }\n    as: h\n    site: drv.c:queue',   // no final newline
  ];
  for (const v of variants) assertSameBothWays(HEAD + v);
  assert.match(outcome(HEAD + MAP + MAP.replace('$b.paddr', '$c.paddr'), true), /^r\.iommu\.yaml:9:41: error: unknown reference '\$c'/);
});

test('a step with expect: is always parsed (its expectation keeps positions of its own)', () => {
  const step = '  - iommu_domain_alloc: { dev: dma0 }\n    expect: { result: ok }\n';
  const text = HEAD + step.repeat(3);
  assertSameBothWays(text);
  assert.equal(reused(text), 0);
});

test('a reused step fails at run time at its own line, with the same message', () => {
  const read = '  - dma_read: { dev: dma0, addr: "$x + 0x40", size: 64 }\n';
  // $x is a DMA address at the first read, a buffer (an object) at the second
  const text = HEAD + MAP.replace('as: h', 'as: x') + read + '  - kmalloc: { size: 4K }\n    as: x\n' + read;
  const s = new Session(loadScenario(text, FILE), { collectEvents: false });
  assert.ok(s.scenario.steps[5] instanceof TemplateStep);
  for (let i = 0; i < 5; i++) s.advance();
  assert.throws(() => s.advance(), (e: unknown) => e instanceof ScenarioError &&
    e.format() === "r.iommu.yaml:12:34: error: '$x + 0x40': $x is an object, not a number");
});

test('keepRuns keeps the first records only; counts, failures and the report stay those of the whole run', () => {
  const failing = '  - iommu_domain_alloc: { dev: dma0 }\n    expect: { result: -EINVAL }\n';
  const text = HEAD + (MAP + UNMAP).repeat(10) + failing + (MAP + UNMAP).repeat(5) + failing;
  const full = new Session(loadScenario(text, FILE), { collectEvents: false });
  const compact = new Session(loadScenario(text, FILE), { collectEvents: false, keepRuns: 5 });
  full.runAll();
  compact.runAll();
  assert.equal(compact.runs.length, 5);
  assert.equal(compact.cursor, full.cursor);
  assert.equal(compact.cursor, 34);
  const failures = (s: Session) => s.expectationFailures().map(f => [f.step.index, f.failures]);
  assert.deepEqual(failures(compact), failures(full));
  assert.equal(failures(full).length, 2);
  const fullReport = full.snapshot({ maxSteps: 5 });
  assert.deepEqual(compact.snapshot({ maxSteps: 5 }), fullReport);
  assert.deepEqual(fullReport.expectations, { checked: 2, failed: 2 });
  assert.equal(fullReport.steps_total, 34);
  // steps without events, findings or failures share frozen empty lists
  assert.ok(Object.isFrozen(full.runs[3].events) && Object.isFrozen(full.runs[3].findings) && Object.isFrozen(full.runs[3].expectFailures));
  compact.reset();
  assert.equal(compact.cursor, 0);
  assert.deepEqual(compact.expectationFailures(), []);
});
