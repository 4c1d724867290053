// Fuzz target for driver C sources: random bytes, lone surrogates, truncated and spliced drivers, macro-heavy
// and pathological preprocessor text, deep nesting (braces, parentheses, if/else chains, initialisers) and very
// long lines. analyzeC promises never to throw; its ranges must stay inside the text. Used by
// test/fuzz/c-source.fuzz.test.ts (in a child process with a time bound per case: tree-sitter runs in wasm).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { analyzeC, initParser, type Analysis } from '../../../simulator/analysis/index';
import type { FuzzTarget } from '../child';

const driversDir = path.resolve(__dirname, '../../../examples/drivers');
const DRIVERS = fs.readdirSync(driversDir).filter(f => f.endsWith('.c')).sort().map(f => fs.readFileSync(path.join(driversDir, f), 'utf8'));

const API = ['iommu_map(d, iova, pa, SZ_4K, IOMMU_READ, GFP_KERNEL)', 'iommu_unmap(d, iova, SZ_4K)', 'dma_map_single(dev, p, n, DMA_TO_DEVICE)',
  'dma_unmap_single(dev, h, n, DMA_TO_DEVICE)', 'alloc_iova_fast(&v->iovad, n, l, true)', 'free_iova(&v->iovad, PHYS_PFN(iova))',
  'kvmalloc_array(args->count, sizeof(u32), GFP_KERNEL)', 'dma_map_sg(dev, sgl, n, DMA_BIDIRECTIONAL)', 'PAGE_ALIGN(x)'];
const MACROS = ['#define A(x) B(x)\n#define B(x) A(x)\n', '#define CAT(a, b) a ## b\n', '#define STR(x) #x\n', '#if 0\n', '#endif\n',
  '#ifdef CONFIG_X\n', '#else\n', '#include <linux/iommu.h>\n', '#define LONG \\\n  a \\\n  b \\\n', '#pragma once\n', '#error x\n',
  '#define F(...) __VA_ARGS__\n', '#line 99999999999 "x.c"\n', '#define X(a,', '??=define T\n', '#\n', '#define __user\n',
  'list_for_each_entry(p, &h, node) {', 'for_each_sg(sgl, sg, n, i) {', '__attribute__((unused)) ', 'asm volatile("" ::: "memory");',
  'static int __init f(void)', 'EXPORT_SYMBOL_GPL(f);', 'MODULE_LICENSE("GPL");', '_Static_assert(1, "x");'];
const OPEN_CLOSE: Array<[string, string]> = [['{', '}'], ['(', ')'], ['[', ']'], ['if (x) {', '}'], ['{ .a = ', '}'], ['/*', '*/'], ['#if 1\n', '#endif\n'],
  ['if (a) f(); else ', ';'], ['(int)(', ')'], ['x ? (', ') : 0']];

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);

/** A function body nested `depth` times around an API call. */
const nestedArb = fc.tuple(pick(OPEN_CLOSE), pick([5, 50, 500, 2000, 10000]), pick(API), fc.boolean()).map(([[o, c], depth, api, closed]) =>
  `int nested(struct d *d)\n{\n${o.repeat(depth)}${api};${closed ? c.repeat(depth) : ''}\n\treturn 0;\n}\n`);

const macroSoupArb = fc.array(fc.oneof(pick(MACROS), pick(API).map(a => `\t${a};\n`), pick(['{', '}', '(', ')', ';', '\n', 'int x', 'goto out;', 'out:'])),
  { maxLength: 300 }).map(parts => parts.join(' '));

const driverCutArb = fc.tuple(pick(DRIVERS), fc.nat(), fc.nat(), fc.nat(3)).map(([src, a, b, how]) => {
  const i = a % (src.length + 1);
  const j = b % (src.length + 1);
  if (how === 0) return src.slice(0, i);                                        // truncated file
  if (how === 1) return src.slice(0, Math.min(i, j)) + src.slice(Math.max(i, j)); // a piece cut out
  if (how === 2) return src.slice(0, i) + src.slice(j);                          // spliced with itself
  return src.slice(i) + src.slice(0, i);                                         // rotated
});

const longLineArb = fc.tuple(pick(API), pick([1e4, 1e5, 4e5])).map(([api, n]) =>
  `int f(void)\n{\n\tx = ${'a + '.repeat(n / 4)}1;\n\t${api};\n\tchar *s = "${'x'.repeat(n)}";\n}\n`);

const caseArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 3000 }).map(b => Buffer.from(b).toString('latin1')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 2000 }) },
  { weight: 4, arbitrary: driverCutArb },
  { weight: 3, arbitrary: macroSoupArb },
  { weight: 2, arbitrary: nestedArb },
  { weight: 1, arbitrary: longLineArb },
);

/** Ranges inside the text, lines and columns that agree with the index, findings on their range's line. */
function assertSane(a: Analysis, text: string): void {
  const ranges = [...a.functions.flatMap(f => [f.range, f.nameRange]), ...a.calls.map(c => c.range), ...a.parseProblems.map(p => p.range),
    ...a.findings.map(f => f.range)];
  for (const r of ranges) {
    assert.ok(r.start.index >= 0 && r.start.index <= r.end.index && r.end.index <= text.length, `range ${JSON.stringify(r)} outside a ${text.length}-character text`);
    assert.ok(r.start.line >= 1 && r.end.line <= a.lineCount, `lines ${r.start.line}..${r.end.line} of ${a.lineCount}`);
    const lineStart = text.lastIndexOf('\n', r.start.index - 1) + 1;
    assert.equal(r.start.col, r.start.index - lineStart + 1, 'column disagrees with the index');
  }
  for (const f of a.findings) assert.equal(f.line, f.range.start.line);
  for (const p of a.parseProblems) assert.ok(p.message.length > 0 && !p.message.includes('[object Object]'));
  assert.equal(a.lineCount, text.split('\n').length);
  JSON.stringify(a);
}

const stats = { cases: 0, calls: 0, findings: 0, functions: 0 };

const cSource: FuzzTarget<string> = {
  arbitrary: caseArb,
  show: t => t,
  init: async () => { await initParser(); },
  check(text) {
    const a = analyzeC(text, 'fuzz.c');
    assertSane(a, text);
    stats.cases++;
    stats.calls += a.calls.length;
    stats.findings += a.findings.length;
    stats.functions += a.functions.length;
  },
  summary: () => `${stats.functions} functions, ${stats.calls} API calls, ${stats.findings} findings`,
  finish() {
    assert.ok(stats.calls > stats.cases / 4 && stats.findings > 0, `the inputs reached too little of the analysis: ${JSON.stringify(stats)}`);
  },
};

export const targets = { 'c-source': cSource };
