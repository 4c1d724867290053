// Differential fuzzing of the two YAML readers: the fast parser (fast-yaml.ts) must give exactly the tree the
// `yaml` package gives (kinds, text, quoting, every line and column), or the same error position, or hand
// the text over (FastYamlUnsupported). A difference means a scenario means one thing in a small file and
// another in a large one. Used by test/fuzz/yaml.fuzz.test.ts.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FastYamlUnsupported, parseFastYaml } from '../../../simulator/scenario/fast-yaml';
import { parseTree, parseWithYamlPackage } from '../../../simulator/scenario/yaml-tree';
import { ScenarioError } from '../../../simulator/scenario/types';
import type { YNode } from '../../../simulator/scenario/yaml-nodes';
import type { FuzzTarget } from '../child';
import { Doc, map, plain, raw, render, seq, str, type Style } from '../gen/yaml-render';
import { mutate, mutationArb, type Mutation } from '../gen/mutate';
import { scenarioArb } from '../gen/scenario-gen';
import { assertClearError } from '../gen/outcome';

const FILE = 'diff.iommu.yaml';
const TRICKY = ['a', 'a b', 'a:b', 'a: b', '-1', '-', '- x', '-x', '?', '? x', '?x', 'x#y', 'x #y', "it's", '"q"', "'q'", 'é', '😀',
  '\\', '0x10', '1.5', 'true', 'null', '~', '', ' lead', 'trail ', 'a,b', '[x]', '{x}', 'x]', 'x}', '&a', '*a', '!t', '|', '>', '@x',
  '`x', '%x', 'a\tb', 'line\nbreak', '\u2028', '\u0085', '\ud800x', '$buf.dma + 0x1000', 'a  b', ':', '::', 'a:', ':a', '#'];
const KEYS = ['a', 'b', 'steps', 'platform', 'a b', 'é', '-k', '?k', 'k:x', '"k"', 'k#', '1', 'true', 'null', ''];

const scalarArb: fc.Arbitrary<Doc> = fc.oneof(
  fc.constantFrom(...TRICKY).map(plain), fc.constantFrom(...TRICKY).map(str), fc.constantFrom(...TRICKY).map(raw),
  fc.string({ maxLength: 6 }).map(raw), fc.string({ unit: 'binary', maxLength: 4 }).map(str),
);

const docArb: fc.Arbitrary<Doc> = fc.letrec<{ node: Doc }>(tie => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    scalarArb,
    fc.array(tie('node'), { maxLength: 4 }).map(seq),
    fc.array(fc.tuple(fc.constantFrom(...KEYS), tie('node')), { maxLength: 4 }).map(map)),
})).node;

interface Case { doc: Doc; style: Style; muts: Mutation[] }
const caseArb: fc.Arbitrary<Case> = fc.record({
  doc: fc.oneof({ weight: 3, arbitrary: docArb.map(d => d.k === 'map' ? d : map([['root', d]])) }, { weight: 1, arbitrary: scenarioArb.map(s => s.doc) }),
  style: fc.constantFrom<Style>('block', 'block', 'flow-args', 'flow', 'json'),
  muts: fc.array(mutationArb, { maxLength: 3 }).map(ms => ms.filter(m => m.kind !== 13)),   // no megabyte lines here
});

const textOf = (c: Case) => mutate(render(c.doc, c.style), c.muts, false);

type Outcome = { tree: YNode | null } | { error: ScenarioError } | { unsupported: true };

function fast(text: string): Outcome {
  try {
    return { tree: parseFastYaml(text, FILE) };
  } catch (e) {
    if (e instanceof FastYamlUnsupported) return { unsupported: true };
    if (e instanceof ScenarioError) return { error: e };
    throw e;
  }
}

function slow(text: string): Outcome {
  try {
    return { tree: parseWithYamlPackage(text, FILE) };
  } catch (e) {
    if (e instanceof ScenarioError) return { error: e };
    throw e;
  }
}

/** The first difference between two trees, as a path and both sides; null when equal. */
function diff(a: YNode | null, b: YNode | null, at = '$'): string | null {
  if (a === null || b === null) return a === b ? null : `${at}: ${a ? a.kind : 'empty'} vs ${b ? b.kind : 'empty'}`;
  if (a.kind !== b.kind) return `${at}: ${a.kind} vs ${b.kind}`;
  if (a.line !== b.line || a.col !== b.col) return `${at}: at ${a.line}:${a.col} vs ${b.line}:${b.col}`;
  if (a.kind === 'scalar' && b.kind === 'scalar') {
    return a.text === b.text && a.plain === b.plain ? null : `${at}: ${JSON.stringify(a.text)}${a.plain ? '' : ' (quoted)'} vs ${JSON.stringify(b.text)}${b.plain ? '' : ' (quoted)'}`;
  }
  if (a.kind === 'seq' && b.kind === 'seq') {
    if (a.items.length !== b.items.length) return `${at}: ${a.items.length} items vs ${b.items.length}`;
    for (let i = 0; i < a.items.length; i++) {
      const d = diff(a.items[i], b.items[i], `${at}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a.kind === 'map' && b.kind === 'map') {
    if (a.entries.length !== b.entries.length) return `${at}: ${a.entries.length} keys vs ${b.entries.length}`;
    for (let i = 0; i < a.entries.length; i++) {
      const x = a.entries[i], y = b.entries[i];
      if (x.key !== y.key || x.keyLine !== y.keyLine || x.keyCol !== y.keyCol) {
        return `${at}: key ${JSON.stringify(x.key)} at ${x.keyLine}:${x.keyCol} vs ${JSON.stringify(y.key)} at ${y.keyLine}:${y.keyCol}`;
      }
      const d = diff(x.value, y.value, `${at}.${x.key}`);
      if (d) return d;
    }
  }
  return null;
}

const stats = { cases: 0, sameTree: 0, sameError: 0, handedOver: 0 };

const differential: FuzzTarget<Case> = {
  arbitrary: caseArb,
  show: textOf,
  check(c) {
    const text = textOf(c);
    stats.cases++;
    const f = fast(text);
    // whatever happens, the public entry point gives a tree or a clear error
    try {
      parseTree(text, FILE);
    } catch (e) {
      assertClearError(e, text, FILE);
    }
    if ('unsupported' in f) { stats.handedOver++; return; }
    const s = slow(text);
    if ('tree' in f) {
      assert.ok('tree' in s, `the fast parser read a tree, the yaml package refused: ${'error' in s ? s.error.format() : ''}`);
      const d = diff(f.tree, s.tree);
      assert.equal(d, null, `fast parser and yaml package disagree: ${d}`);
      stats.sameTree++;
    } else {
      assert.ok('error' in s, `the fast parser refused (${f.error.format()}), the yaml package read a tree`);
      assert.equal(`${f.error.pos.line}:${f.error.pos.col} ${f.error.message}`, `${s.error.pos.line}:${s.error.pos.col} ${s.error.message}`,
        'the two parsers refuse the text at different places');
      stats.sameError++;
    }
  },
  summary: () => `${stats.sameTree} same trees, ${stats.sameError} same errors, ${stats.handedOver} handed to the yaml package`,
  finish() {
    // a differential run that never compares anything would pass forever
    assert.ok(stats.sameTree >= stats.cases * 0.2, `only ${stats.sameTree} of ${stats.cases} texts were compared: ${JSON.stringify(stats)}`);
  },
};

export const targets = { 'yaml-differential': differential };
