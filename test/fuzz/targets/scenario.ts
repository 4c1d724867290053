// Fuzz targets for scenario files: loading mutated text, running generated scenarios with every simulator
// invariant checked after each step, and decoding arbitrary bytes. Used by test/fuzz/scenario.fuzz.test.ts.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadScenario } from '../../../simulator/scenario/loader';
import { TemplateStep } from '../../../simulator/scenario/step-templates';
import { ScenarioError } from '../../../simulator/scenario/types';
import { nestingMessage } from '../../../simulator/scenario/yaml-nodes';
import { decodeScenarioBytes } from '../../../simulator/scenario/source-text';
import { Session } from '../../../simulator/session';
import type { FuzzTarget } from '../child';
import { runnableScenarioArb, scenarioArb } from '../gen/scenario-gen';
import { Mutation, mutate, mutationArb } from '../gen/mutate';
import { render, type Style } from '../gen/yaml-render';
import { assertClearError } from '../gen/outcome';

const FILE = 'fuzz.iommu.yaml';
const styleArb = fc.constantFrom<Style>('block', 'flow-args', 'flow-args', 'flow', 'json');

function textOf(x: { doc: Parameters<typeof render>[0]; style: Style; muts: Mutation[] }): string {
  return mutate(render(x.doc, x.style), x.muts);
}

const loadArb = fc.record({
  doc: scenarioArb.map(s => s.doc), style: styleArb, muts: fc.array(mutationArb, { maxLength: 4 }),
});

const stats = { loaded: 0, ran: 0, steps: 0, decoded: 0, refused: 0 };

/** Loading: a LoadedScenario or a clear ScenarioError, nothing else. */
const load: FuzzTarget<{ doc: Parameters<typeof render>[0]; style: Style; muts: Mutation[] }> = {
  arbitrary: loadArb,
  show: textOf,
  check(x) {
    const text = textOf(x);
    try {
      const s = loadScenario(text, FILE);
      assert.ok(Array.isArray(s.steps) && typeof s.name === 'string');
      stats.loaded++;
    } catch (e) {
      assertClearError(e, text, FILE);
    }
  },
  summary: () => `${stats.loaded} loaded`,
  finish() {
    // the generator must reach the loader's happy path too, or the suite tests nothing but the syntax checks
    assert.ok(stats.loaded > 0, 'no generated scenario loaded');
  },
};

const runArb = fc.record({
  doc: runnableScenarioArb.map(s => s.doc), style: styleArb,
  muts: fc.oneof({ weight: 5, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 1, arbitrary: fc.array(mutationArb, { maxLength: 1 }) }),
  events: fc.boolean(),
});

/** Running: every step completes or stops with a clear error; invariants hold after every step. */
const run: FuzzTarget<{ doc: Parameters<typeof render>[0]; style: Style; muts: Mutation[]; events: boolean }> = {
  arbitrary: runArb,
  show: x => `# collectEvents: ${x.events}\n` + textOf(x),
  check(x) {
    const text = textOf(x);
    let session: Session;
    try {
      session = new Session(loadScenario(text, FILE), { checkInvariants: true, collectEvents: x.events });
    } catch (e) {
      assertClearError(e, text, FILE);
      return;
    }
    try {
      session.runAll();
    } catch (e) {
      assertClearError(e, text, FILE);
    }
    stats.ran++;
    stats.steps += session.runs.length;
    // the views and --json serialise the report: it must stay plain data
    const report = session.snapshot();
    const json = JSON.stringify(report);
    assert.ok(json.length > 0);
    assert.equal(report.steps.length, session.runs.length);
  },
  summary: () => `${stats.ran} ran, ${stats.steps} steps executed`,
  finish() {
    assert.ok(stats.ran > 0 && stats.steps > stats.ran, `runs reached too little: ${JSON.stringify(stats)}`);
  },
};

/** Bytes on disk: decoded to text or refused with a position (NUL, UTF-16, invalid UTF-8), then loaded. */
const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 400 }),
  fc.tuple(scenarioArb, fc.uint8Array({ minLength: 1, maxLength: 6 }), fc.nat()).map(([s, junk, at]) => {
    const text = Buffer.from(render(s.doc, 'flow-args'));
    const i = at % (text.length + 1);
    return new Uint8Array(Buffer.concat([text.subarray(0, i), Buffer.from(junk), text.subarray(i)]));
  }),
  fc.constantFrom(new Uint8Array([0xff, 0xfe, 0x70, 0]), new Uint8Array([0xef, 0xbb, 0xbf, 0x70, 0x3a]), new Uint8Array([0xc0, 0x80]),
    new Uint8Array([0xed, 0xa0, 0x80]), new Uint8Array([0xf4, 0x90, 0x80, 0x80])),
);

const bytes: FuzzTarget<Uint8Array> = {
  arbitrary: bytesArb,
  summary: () => `${stats.decoded} decoded, ${stats.refused} refused as not UTF-8 text`,
  show: b => Buffer.from(b).toString('latin1'),
  check(b) {
    let text: string;
    try {
      text = decodeScenarioBytes(b, FILE);
      stats.decoded++;
    } catch (e) {
      assertClearError(e, Buffer.from(b).toString('latin1'), FILE);
      stats.refused++;
      return;
    }
    try {
      loadScenario(text, FILE);
    } catch (e) {
      assertClearError(e, text, FILE);
    }
  },
};

/**
 * Repeated step texts (simulator/scenario/step-templates.ts): a step made again from an earlier one with the
 * same text must be exactly the step the parser and the checks give, or the text must fail the same way. The
 * texts repeat runs of lines (whole steps, a step's first line, its `as:` line ...) before the mutations.
 */
const reuseArb = fc.record({
  doc: fc.oneof({ weight: 3, arbitrary: runnableScenarioArb }, { weight: 1, arbitrary: scenarioArb }).map(s => s.doc), style: fc.constantFrom<Style>('block', 'flow-args', 'flow-args'),
  copies: fc.array(fc.record({ at: fc.nat(), lines: fc.integer({ min: 1, max: 4 }), times: fc.integer({ min: 1, max: 3 }) }), { maxLength: 5 }),
  muts: fc.oneof({ weight: 2, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 1, arbitrary: fc.array(mutationArb, { maxLength: 2 }) }),
});
type ReuseCase = { doc: Parameters<typeof render>[0]; style: Style; copies: Array<{ at: number; lines: number; times: number }>; muts: Mutation[] };

function reuseText(x: ReuseCase): string {
  const ls = render(x.doc, x.style).split('\n');
  for (const c of x.copies) {
    const at = c.at % ls.length;
    const run = ls.slice(at, at + c.lines);
    for (let t = 0; t < c.times; t++) ls.splice(at + c.lines, 0, ...run);
  }
  return mutate(ls.join('\n'), x.muts, false);
}

const reuseStats = { same: 0, sameError: 0, reusedSteps: 0 };
type Loaded = { json: string } | { error: string };
function loadOutcome(text: string, reuseSteps: boolean): Loaded {
  try {
    const s = loadScenario(text, FILE, { reuseSteps });
    if (reuseSteps) reuseStats.reusedSteps += s.steps.filter(step => step instanceof TemplateStep).length;
    return { json: JSON.stringify({ steps: s.steps, rebinds: s.rebinds }) };
  } catch (e) {
    assertClearError(e, text, FILE);
    const shown = e instanceof Error ? `${e.constructor.name}: ${(e as { format?: () => string }).format?.() ?? e.message}` : String(e);
    // Where the yaml package runs out of stack on absurd nesting depends on the JIT's frame sizes, so that one
    // message's position differs from load to load with or without reuse: compare the message only.
    return { error: e instanceof ScenarioError && e.message === nestingMessage() ? `nesting: ${e.message}` : shown };
  }
}

const reuse: FuzzTarget<ReuseCase> = {
  arbitrary: reuseArb,
  show: reuseText,
  check(x) {
    const text = reuseText(x);
    const fresh = loadOutcome(text, false);
    const reused = loadOutcome(text, true);
    assert.deepEqual(reused, fresh, 'a step made from an earlier one with the same text differs from the step itself');
    if ('json' in fresh) reuseStats.same++; else reuseStats.sameError++;
  },
  summary: () => `${reuseStats.same} same scenarios (${reuseStats.reusedSteps} steps made again), ${reuseStats.sameError} same errors`,
  finish() {
    // both sides of the comparison must be reached: loaded texts, and steps that were made from earlier ones
    assert.ok(reuseStats.same > 0 && reuseStats.reusedSteps > 0, `too little compared: ${JSON.stringify(reuseStats)}`);
  },
};

export const targets = { 'scenario-load': load, 'scenario-run': run, 'scenario-bytes': bytes, 'scenario-reuse': reuse };
