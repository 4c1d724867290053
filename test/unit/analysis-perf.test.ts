// What the analysis does to stay cheap must not change what it finds: functions that cannot matter are not
// read (only their record is kept), the tree is read in one walk or range by range, unchanged functions are
// reused by CAnalyzer.update, and the depth guard skips subtrees too small to be deep. Each is checked
// against the plain way of doing it.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { Tree } from 'web-tree-sitter';
import { analyzeC, CAnalyzer, initParser, newCParser, type Analysis, type AnalyzeOptions } from '../../simulator/analysis/index';
import { newCQuery } from '../../simulator/analysis/parser';
import { charRange } from '../../simulator/analysis/syntax';
import { treeTooDeep } from '../../simulator/analysis/nesting-guard';
import { LIMITS } from '../../simulator/limits';
import { driversDir, extractAddedC, MACRO_HEAVY, readSeed } from './analysis-fixtures';

before(async () => { await initParser(); });

const view = (a: Analysis) => JSON.stringify([a.functions, a.calls, a.parseProblems, a.parseProblemsOmitted, a.findings]);
const walk: AnalyzeOptions = { recordStrategy: 'walk' };        // reads every function
const ranges: AnalyzeOptions = { recordStrategy: 'range' };     // reads only the functions that can matter

/** Unrelated kernel code around the driver: what a real file has most of. */
const UNRELATED = (n: number) => `
static int foo_poll_${n}(struct foo_dev *fd, unsigned int idx)
{
	struct foo_ring *ring = &fd->rings[idx];
	int ret = 0, i;

	spin_lock_irq(&fd->lock);
	list_for_each_entry(ring, &fd->list, node) {
		for (i = 0; i < ring->count; i++) {
			ret = foo_process(fd, ring, i);
			if (ret < 0)
				goto out;
		}
	}
out:
	spin_unlock_irq(&fd->lock);
	return ret;
}
`;

describe('reading only what can matter gives the analysis of reading everything', () => {
  const posted = fs.readFileSync(path.join(driversDir, 'apu_gem.c'), 'utf8');
  const reviewed = fs.readFileSync(path.join(driversDir, 'apu_gem_reviewed.c'), 'utf8');

  test('the example drivers, the seed patch and macro-heavy code', () => {
    const seed = [...extractAddedC(readSeed('000_35d73a35a6aed2ea.txt')).values()];
    for (const text of [posted, reviewed, MACRO_HEAVY, ...seed]) {
      const a = analyzeC(text, 'x.c', walk);
      assert.equal(view(analyzeC(text, 'x.c', ranges)), view(a));
      assert.equal(view(analyzeC(text, 'x.c')), view(a));
    }
  });

  test('a driver among unrelated functions: every function is listed, the findings are the same', () => {
    const text = [UNRELATED(1), posted, UNRELATED(2), UNRELATED(3), reviewed.replace(/\bapu_/g, 'apu2_'), UNRELATED(4)].join('\n');
    const all = analyzeC(text, 'x.c', walk);
    const some = analyzeC(text, 'x.c', ranges);
    assert.equal(view(some), view(all));
    assert.ok(all.functions.some(f => f.name === 'foo_poll_3'), 'unread functions keep their record');
    assert.ok(all.findings.some(f => f.code === 'wrong-free-function' && f.function === 'apu_gem_iommu_map'));
  });

  test('a function that matters only through a wrapper of this file, or a domain member it sets', () => {
    const text = `
static int my_map(struct my_dev *md, unsigned long iova, phys_addr_t pa)
{
	return iommu_map(md->dom, iova, pa, SZ_4K, IOMMU_READ, GFP_KERNEL);
}

static int my_map_all(struct my_dev *md, int n)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = my_map(md, md->base + i * SZ_4K, md->pages[i]);
		if (ret)
			break;
	}
	return ret;
}

static void my_setup(struct my_dev *md, void *d)
{
	md->dom = d;
}

static void my_note(struct my_dev *md)
{
	u32 last_iova = md->base;

	md->seen = last_iova;
}

static void my_alloc(struct my_dev *md, void __user *uarg)
{
	struct my_req *req = uarg;

	md->pages = kmalloc_array(req->count, sizeof(*md->pages), GFP_KERNEL);
}
${UNRELATED(9)}`;
    const all = analyzeC(text, 'x.c', walk);
    assert.equal(view(analyzeC(text, 'x.c', ranges)), view(all));
    // the leak is found in my_map_all, which names no IOMMU API itself
    assert.deepEqual(all.findings.filter(f => f.code === 'error-path-leak').map(f => f.function), ['my_map_all']);
    // md->dom is set in my_setup, which names no IOMMU API either: the domain is not "never allocated"
    assert.ok(!all.findings.some(f => f.code === 'domain-never-allocated'));
    // functions that matter only by an IOVA held in 32 bits, or an allocation sized from userspace
    assert.deepEqual(all.findings.filter(f => f.function === 'my_note' || f.function === 'my_alloc').map(f => `${f.function} ${f.code}`),
      ['my_note iova-truncated', 'my_alloc unbounded-user-count']);
  });

  test('text with syntax errors, property-checked', () => {
    const pieces = [posted.slice(0, 4000), UNRELATED(5), '{ int (', ')) ;', 'iommu_map(d, ', '#if X\n', '#endif\n', 'struct s { u32 iova; };\n', reviewed.slice(6000, 9000)];
    fc.assert(fc.property(fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 6 }), parts => {
      const text = parts.join('\n');
      assert.equal(view(analyzeC(text, 'x.c', ranges)), view(analyzeC(text, 'x.c', walk)));
    }), { seed: 4242, numRuns: 60 });
  });
});

describe('CAnalyzer.update reuses unchanged functions', () => {
  test('edits anywhere in a large file give the fresh analysis', () => {
    const base = [UNRELATED(1), fs.readFileSync(path.join(driversDir, 'apu_gem.c'), 'utf8'), UNRELATED(2)].join('\n');
    const analyzer = new CAnalyzer('x.c');
    let text = base;
    analyzer.update(text);
    const edits: Array<[string, string]> = [
      ['u32 iova;', 'dma_addr_t iova;'], ['PAGE_ALIGN(sg->length),', 'iova_align(&apu->iovad, sg->length),'],
      ['static int foo_poll_1', 'static int foo_poll_one'], ['\treturn 0;\n}', '\treturn -EINVAL;\n}'], ['goto out;', 'break;'],
    ];
    for (const [from, to] of edits) {
      const at = text.indexOf(from);
      assert.ok(at >= 0, from);
      text = text.slice(0, at) + to + text.slice(at + from.length);
      const got = analyzer.update(text, [{ rangeOffset: at, rangeLength: from.length, text: to }]);
      assert.equal(view(got), view(analyzeC(text, 'x.c')), `after '${from}' → '${to}'`);
    }
    analyzer.dispose();
  });
});

describe('tree-sitter ranges and the depth guard', () => {
  test('a query range is twice the string range (web-tree-sitter passes UTF-16 byte offsets through)', () => {
    const text = '/* é ü */ int a(void) { return f(1); }\nint b(void) { return g(2); }\n';
    const tree = newCParser().parse(text)!;
    const q = newCQuery('(call_expression) @c');
    const b = text.indexOf('int b');
    const calls = (start: number, end: number) => q.matches(tree.rootNode, charRange(start, end)).map(m => text.slice(m.captures[0].node.startIndex, m.captures[0].node.endIndex));
    assert.deepEqual(calls(0, b), ['f(1)']);
    assert.deepEqual(calls(b, text.length), ['g(2)']);
    tree.delete();
  });

  /** The depth guard's reference: a full walk counting visible levels, as the guard was first written. */
  function deepestOffset(tree: Tree, limit: number): number | null {
    const c = tree.walk();
    let depth = 0;
    try {
      for (;;) {
        if (c.gotoFirstChild()) { if (++depth > limit) return c.startIndex; continue; }
        while (!c.gotoNextSibling()) { if (!c.gotoParent()) return null; depth--; }
      }
    } finally { c.delete(); }
  }

  test('skipping small subtrees finds exactly what the full walk finds', () => {
    const limit = LIMITS.cNestingDepth;
    const shapes = [
      (n: number) => `int f(void)\n{\n${'if (a) f(); else '.repeat(n)};\n}\n`,
      (n: number) => `int f(void)\n{\n\tx = ${Array.from({ length: n }, (_, i) => `a${i}`).join(' + ')};\n}\n`,
      (n: number) => `int f(void)\n{\n${'{'.repeat(n)}g();${'}'.repeat(n)}\n}\n`,
    ];
    const parser = newCParser();
    let deep = 0;
    for (const shape of shapes) {
      for (const n of [5, Math.floor(limit / 4), Math.floor(limit / 2) - 1, Math.floor(limit / 2) + 1, limit - 3, limit + 3]) {
        const text = shape(n);
        const tree = parser.parse(text)!;
        const want = deepestOffset(tree, limit);
        const got = treeTooDeep('f.c', text, tree);
        assert.equal(got === null, want === null, `${text.slice(0, 40)} n=${n}`);
        if (got && want !== null) { deep++; assert.equal(got.parseProblems[0].range.start.index, want); }
        tree.delete();
      }
    }
    assert.ok(deep >= 3, 'some inputs are past the limit');
  });
});
