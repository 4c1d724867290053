// The fast scenario YAML parser must agree with the `yaml` package on everything it accepts, and leave
// everything else to it. Checked on the repository's scenarios and on randomly mutated YAML (fixed seed;
// replay with IOMMU_LENS_FUZZ_SEED=<seed>, fast-check prints the seed and path on failure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import fc from 'fast-check';
import { FastYamlUnsupported, parseFastYaml } from '../../simulator/scenario/fast-yaml';
import { parseWithYamlPackage } from '../../simulator/scenario/yaml-tree';
import type { YNode } from '../../simulator/scenario/yaml-nodes';
import { ScenarioError } from '../../simulator/scenario/types';

const SEED = Number(process.env.IOMMU_LENS_FUZZ_SEED ?? 1717);

const plain = (n: YNode | null) => JSON.parse(JSON.stringify(n)) as unknown;

type Outcome = { tree: unknown } | { error: string } | { unsupported: string };

function fast(text: string): Outcome {
  try {
    return { tree: plain(parseFastYaml(text, 'f')) };
  } catch (e) {
    if (e instanceof FastYamlUnsupported) return { unsupported: e.reason };
    if (e instanceof ScenarioError) return { error: e.format() };
    throw e;
  }
}

function reference(text: string): Outcome {
  try {
    return { tree: plain(parseWithYamlPackage(text, 'f')) };
  } catch (e) {
    if (e instanceof ScenarioError) return { error: e.format() };
    throw e;
  }
}

/** Whatever the fast parser accepts (or rejects as a duplicate key), the yaml package sees the same way. */
function assertAgrees(text: string): void {
  const f = fast(text);
  if ('unsupported' in f) return;
  assert.deepEqual(f, reference(text), `disagreement on ${JSON.stringify(text)}`);
}

const SEEDS = [
  'name: x\nplatform: apple-t8103\nkernel:\n  page_size: 16K   # CPU pages\nsteps:\n  - probe: xhci\n  - kmalloc: { size: 4K, as: buf }\n'
    + '  - dma_map_single: { dev: xhci, paddr: $buf.paddr, size: "4K", dir: to_device }\n    as: h\n    expect: { result: ok, exposed: 12K }\n',
  'platform:\n  iommus:\n    - name: dart0\n      model: apple-dart-t8103\n      pgsize_bitmap: [16K]\n  devices:\n  - { name: "00:01.0", streams: [0x100] }\n',
  '{\n  "platform": "x",\n  "steps": [\n    {"kmalloc": {"size": "4K"}, "as": "b"},\n    {"kfree": {"paddr": "$b.paddr"}}\n  ]\n}\n',
  "a: 'it''s'\nb: \"tab\\there \\u00e9\"\nc: []\nd: {}\ne:\nf: ~\n- g\n",
  'list:\n- a\n-\n  - b\n- c: d\n  e: f\n',
];
const PIECES = [' ', '\n', '  ', '- ', ':', ': ', '#', ' #', '{', '}', '[', ']', ',', '"', "'", '\\', 'x', 'k: v', '\n  ', '\n    ',
  '&a ', '*a', '!t ', '|', '>', '? ', '---\n', '\t', '\r\n', 'null', '~', '\\n', "''", 'é', '\ufeff'];

test('the fast parser and the yaml package agree on the repository scenarios', () => {
  let checked = 0;
  for (const dir of ['examples', 'test-fixtures/fixtures']) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter(n => /\.iommu\.(ya?ml|json)$/.test(n))) {
      const text = readFileSync(`${dir}/${f}`, 'utf8');
      const out = fast(text);
      assert.ok('tree' in out, `${f}: the fast parser should handle scenario files (${JSON.stringify(out)})`);
      assertAgrees(text);
      checked++;
    }
  }
  for (const s of SEEDS) assertAgrees(s);
  // Tabs in comments are harmless; elsewhere they are left to the yaml package.
  const tabs = 'a: 1 #\tcomment\n#\tline\nb: "x # y"  #\t\n';
  assert.ok('tree' in fast(tabs));
  assert.deepEqual(fast(tabs), reference(tabs));
  assert.ok(checked > 0 || !existsSync('examples'));
});

test('randomly mutated YAML: the fast parser never accepts what the yaml package reads differently', () => {
  const mutation = fc.record({ at: fc.nat(), op: fc.constantFrom('insert', 'delete', 'replace'), piece: fc.constantFrom(...PIECES), len: fc.integer({ min: 1, max: 3 }) });
  fc.assert(fc.property(fc.nat(SEEDS.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (seedIndex, mutations) => {
    let t = SEEDS[seedIndex];
    for (const m of mutations) {
      const at = m.at % (t.length + 1);
      if (m.op === 'insert') t = t.slice(0, at) + m.piece + t.slice(at);
      else if (m.op === 'delete') t = t.slice(0, at) + t.slice(at + m.len);
      else t = t.slice(0, at) + m.piece + t.slice(at + 1);
    }
    assertAgrees(t);
  }), { seed: SEED, numRuns: 1500 });
});

test('constructs outside the subset are left to the yaml package, with a reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['a: &x 1\nb: *x\n', /anchor/], ['a: !!str 1\n', /tag/], ['a: |\n  text\n', /block scalar/], ['a:\tb\n', /tab/],
    ['a: one\n  two\n', /continued on the next line/], ['---\na: 1\n', /document marker/], ['a: "multi\n  line"\n', /multi-line/],
    ['? complex\n: key\n', /complex mapping key/], ['a: x # ok\t\nb:\tc\n', /tab/],
  ];
  for (const [text, reason] of cases) {
    const out = fast(text);
    assert.ok('unsupported' in out && reason.test(out.unsupported), `${JSON.stringify(text)}: ${JSON.stringify(out)}`);
    assert.ok('tree' in reference(text), `the yaml package reads ${JSON.stringify(text)}`);
  }
});

test('the top-level steps list can be streamed item by item', () => {
  const items: unknown[] = [];
  const root = parseFastYaml('platform: p\nsteps:\n  - probe: a\n  - probe: b\nother:\n  - not streamed\n', 'f', n => items.push(plain(n)));
  assert.equal(items.length, 2);
  assert.deepEqual(items[1], { kind: 'map', entries: [{ key: 'probe', keyLine: 4, keyCol: 5, value: { kind: 'scalar', text: 'b', plain: true, line: 4, col: 12 } }], line: 4, col: 5 });
  const tree = plain(root) as { entries: Array<{ key: string; value: { items: unknown[] } }> };
  assert.deepEqual(tree.entries.map(e => [e.key, e.value.items?.length]), [['platform', undefined], ['steps', 0], ['other', 1]]);
  const json: unknown[] = [];
  parseFastYaml('{"steps": [{"probe": "a"}, {"probe": "b"}], "x": [1]}', 'f', n => json.push(n));
  assert.equal(json.length, 2);
});
