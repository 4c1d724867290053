// The text scanners of the source analysis read character codes and offsets instead of making strings and
// running regular expressions (they run over every comment, argument list and declaration of a file). Each
// is checked here against the plain way of doing the same thing; the parser analyzeC reuses must not carry
// anything from one analysis to the next; a MISSING token deep inside a call still marks the call broken.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { analyzeC, CAnalyzer, initParser, type Analysis } from '../../simulator/analysis/index';
import { declaratorsIn } from '../../simulator/analysis/parts';
import { maskAndMeasure, maskNoise } from '../../simulator/analysis/preprocess';
import { cNestingTooDeep, LIMITS } from '../../simulator/limits';
import { argumentsIn, LineIndex, type Piece } from '../../simulator/analysis/text';
import { MACRO_HEAVY, MAPPING_UNCHECKED, OWN_DOMAIN_POSTED, SGTABLE_SHARED } from './analysis-fixtures';

before(async () => { await initParser(); });

/** Text made of the characters the scanners treat specially, and a few they must not. */
const cText = fc.array(fc.constantFrom('/', '*', '"', "'", '\\', '\n', '\r', 'a', 'b1', ' ', '\t', '\u00a0', '\u2028', '\ud800',
  'é', '=', '==', '!', '<', '>', '(', ')', '[', ']', '{', '}', ',', ';', 'const', 'struct', '9', '_x'), { maxLength: 50 })
  .map(parts => parts.join(''));
const RUNS = { seed: 20261121, numRuns: 20000 };

// The references: the definitions the scanners replaced, written the plain way.
const NOISE = /\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|"(?:\\[\s\S]|[^"\\\n])*"?|'(?:\\[\s\S]|[^'\\\n])*'?/g;

function splitPlain(text: string, base: number): Piece[] {
  const pieces: Piece[] = [];
  let depth = 0;
  let from = 0;
  const push = (to: number) => {
    const raw = text.slice(from, to);
    const t = raw.trim();
    const at = base + from + raw.length - raw.trimStart().length;
    if (t) pieces.push({ text: t, start: at, end: at + t.length });
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === '\'') {
      for (i++; i < text.length && text[i] !== c && text[i] !== '\n'; i++) if (text[i] === '\\') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? text.length : close + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) { push(i); from = i + 1; }
  }
  push(text.length);
  return pieces;
}

function declaratorsPlain(text: string, base: number) {
  const trimmed = text.trimEnd();
  const body = trimmed.endsWith(';') ? trimmed.slice(0, -1) : trimmed;
  return splitPlain(body, base).flatMap(p => {
    let decl = p.text;
    let init: Piece | null = null;
    let depth = 0;
    for (let i = 0; i < decl.length; i++) {
      const c = decl[i];
      if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) depth--;
      else if (c === '=' && depth === 0 && decl[i + 1] !== '=' && i > 0 && !'!<>='.includes(decl[i - 1])) {
        const raw = decl.slice(i + 1);
        const start = p.start + i + 1 + raw.length - raw.trimStart().length;
        init = { text: raw.trim(), start, end: start + raw.trim().length };
        decl = decl.slice(0, i);
        break;
      }
    }
    const re = /[A-Za-z_]\w*/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(decl)) && ['const', 'volatile', 'restrict', '__restrict', 'struct', 'union', 'enum'].includes(m[0])) { /* qualifier */ }
    if (!m) return [];
    const before = decl.slice(0, m.index);
    const after = decl.slice(m.index + m[0].length).trimStart();
    return [{ name: m[0], nameSpan: { start: p.start + m.index, end: p.start + m.index + m[0].length }, pointer: before.includes('*'),
      array: after.startsWith('['), func: after.startsWith('(') && !before.includes('('), init }];
  });
}

describe('text scanners agree with their plain definitions', () => {
  test('maskNoise blanks what the comment-and-literal pattern matches, newlines kept', () => {
    fc.assert(fc.property(cText, text => {
      assert.equal(maskNoise(text), text.replace(NOISE, m => m.replace(/[^\n]/g, ' ')));
    }), RUNS);
  });

  test('the bracket depth measured while masking is what cNestingTooDeep finds', () => {
    const deep = fc.tuple(cText, fc.integer({ min: LIMITS.cNestingDepth - 2, max: LIMITS.cNestingDepth + 2 }), fc.constantFrom('(', '[', '{'), cText)
      .map(([a, n, open, b]) => a + open.repeat(n) + b);
    fc.assert(fc.property(fc.oneof(cText, deep), text => {
      assert.equal(maskAndMeasure(text, LIMITS.cNestingDepth).tooDeepAt, cNestingTooDeep(text));
    }), RUNS);
  });

  test('argumentsIn and declaratorsIn read any slice of any text as the string-based splitters did', () => {
    fc.assert(fc.property(cText, fc.nat(), fc.nat(), (code, a, b) => {
      const start = a % (code.length + 1);
      const end = start + b % (code.length - start + 1);
      assert.deepEqual(declaratorsIn(code, start, end), declaratorsPlain(code.slice(start, end), start));
      const open = code.indexOf('(', start);
      if (open < 0 || open >= end) return;
      const list = code.slice(open, end);
      const close = list.lastIndexOf(')');
      const inner = list.slice(1, close > 0 ? close : list.length);
      assert.deepEqual(argumentsIn(code, open, end), splitPlain(inner, open + 1));
    }), RUNS);
  });

  test('LineIndex positions count lines and columns as the text has them', () => {
    fc.assert(fc.property(cText, fc.nat(), (text, n) => {
      const at = n % (text.length + 1);
      const before = text.slice(0, at).split('\n');
      assert.deepEqual(new LineIndex(text).position(at), { line: before.length, col: before[before.length - 1].length + 1, index: at });
      assert.equal(new LineIndex(text).lineCount, text.split('\n').length);
    }), { seed: 20261121, numRuns: 2000 });
  });
});

describe('analyzeC', () => {
  const fresh = (text: string): Analysis => {
    const analyzer = new CAnalyzer('x.c', {}, false);
    try { return analyzer.update(text); } finally { analyzer.dispose(); }
  };

  test('the parser it reuses carries nothing from one analysis to the next', () => {
    const texts = [MACRO_HEAVY, '{ int (', OWN_DOMAIN_POSTED, `int f(void) {${'{'.repeat(300)}`, SGTABLE_SHARED, MAPPING_UNCHECKED, MACRO_HEAVY];
    for (const text of texts) assert.deepEqual(analyzeC(text, 'x.c'), fresh(text));
  });

  test('a call with a MISSING token anywhere inside its arguments is not reported as a call', () => {
    const src = 'int f(struct d *d)\n{\n\tiommu_unmap(d->dom, iova_of(d, 0), SZ_4K;\n\treturn iommu_map(d->dom, 0, 0, SZ_4K, 0, 0);\n}\n'
      + 'int g(struct d *d)\n{\n\tint r = iommu_map(d->dom, h(d, 0, 0, SZ_4K, 0, 0);\n\treturn r;\n}\n';
    const a = analyzeC(src, 'm.c');
    assert.deepEqual(a.parseProblems.map(p => `${p.kind} ${p.line}:${p.col}`), ['missing 3:42', 'missing 8:51']);
    assert.deepEqual(a.calls.map(c => `${c.function}:${c.api}:${c.line}`), ['f:iommu_map:4']);
  });
});
