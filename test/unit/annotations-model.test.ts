// The pure part of the editor annotations: folding VS Code's content changes into the one edit the analyzer
// reuses its tree with (property-tested against the texts themselves), the inline text per line, the
// CodeLens titles and the hover Markdown.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { analyzeC, bindOutcomes, CAnalyzer, initParser } from '../../simulator/analysis/index';
import { loadSession } from '../../simulator/session';
import {
  callHoverMarkdown, envelopeChange, findingHoverMarkdown, foldChange, inlineItems, lensTitle, md, type Envelope,
} from '../../extension/annotations/model';

before(async () => { await initParser(); });

const SEED = 20240611;

describe('folding content changes', () => {
  // one VS Code event: changes with offsets into the text before the event, applied back to front
  const applyEvent = (text: string, changes: Array<{ rangeOffset: number; rangeLength: number; text: string }>) =>
    [...changes].sort((x, y) => y.rangeOffset - x.rangeOffset)
      .reduce((t, c) => t.slice(0, c.rangeOffset) + c.text + t.slice(c.rangeOffset + c.rangeLength), text);

  test('the folded edit turns the analysed text into the current one, whatever the sequence of events', () => {
    const edit = fc.record({ at: fc.nat(), len: fc.nat({ max: 6 }), text: fc.string({ maxLength: 5 }) });
    fc.assert(fc.property(fc.string({ maxLength: 60 }), fc.array(fc.array(edit, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 }),
      (start, events) => {
        let text = start;
        let env: Envelope | null = null;
        for (const ev of events) {
          // non-overlapping changes of one event, as VS Code reports them (offsets into the text before it)
          const changes: Array<{ rangeOffset: number; rangeLength: number; text: string }> = [];
          let floor = text.length;
          for (const e of [...ev].sort((x, y) => y.at - x.at)) {
            const offset = Math.min(e.at % (text.length + 1), floor);
            const length = Math.min(e.len, floor - offset);
            changes.push({ rangeOffset: offset, rangeLength: length, text: e.text });
            floor = offset;
          }
          for (const c of changes) env = foldChange(env, c);
          // VS Code reports an event's changes so that each applies to the text as left by the ones before
          text = applyEvent(text, changes);
        }
        const c = envelopeChange(env!, text);
        assert.equal(start.slice(0, c.rangeOffset) + c.text + start.slice(c.rangeOffset + c.rangeLength), text);
      }), { seed: SEED, numRuns: 400 });
  });

  test('an incremental update with the folded edit equals a fresh analysis', () => {
    const before = 'static int f(struct iommu_domain *d)\n{\n\treturn iommu_map(d, 0, 0, SZ_4K, 0, 0);\n}\n';
    const analyzer = new CAnalyzer('f.c');
    analyzer.update(before);
    let env: Envelope | null = null;
    let text = before;
    for (const [find, replacement] of [['SZ_4K', 'PAGE_SIZE'], ['return ', 'int ret = '], ['0);\n}', '0);\n\treturn ret;\n}']]) {
      const at = text.indexOf(find);
      env = foldChange(env, { rangeOffset: at, rangeLength: find.length, text: replacement });
      text = text.slice(0, at) + replacement + text.slice(at + find.length);
    }
    const incremental = analyzer.update(text, [envelopeChange(env!, text)]);
    const fresh = analyzeC(text, 'f.c');
    assert.deepEqual(JSON.stringify([incremental.calls, incremental.findings]), JSON.stringify([fresh.calls, fresh.findings]));
    assert.equal(incremental.calls[0].args[3], 'PAGE_SIZE');
    analyzer.dispose();
  });
});

describe('inline text, CodeLens titles and hovers', () => {
  const C = `static int demo_map(struct iommu_domain *d, phys_addr_t pa)
{
	int ret = iommu_map(d, 0x100000, pa,
			    SZ_8K, IOMMU_READ, GFP_KERNEL);
	if (ret) return ret; return iommu_map(d, 0x100800, pa, SZ_4K, IOMMU_READ, GFP_KERNEL) ?: iommu_unmap(d, 0x100000, SZ_8K);
}
`;
  const SCENARIO = `platform: generic-4k
steps:
  - iommu_domain_alloc: { dev: dma0, type: unmanaged }
    as: d
  - iommu_map: { domain: $d, iova: 0x100000, paddr: 0x80000000, size: 8K, prot: [read] }
    site: demo.c:demo_map
  - iommu_map: { domain: $d, iova: 0x100800, paddr: 0x80000000, size: 4K, prot: [read] }
    site: demo.c:demo_map
  - iommu_unmap: { domain: $d, iova: 0x100000, size: 8K }
    site: demo.c:demo_map
`;
  const run = () => { const s = loadSession(SCENARIO, 's.iommu.yaml'); s.runAll(); return s.snapshot(); };

  test('one item per line, after the last line of the call; calls sharing a line are named', () => {
    const b = bindOutcomes(analyzeC(C, 'demo.c'), run());
    assert.deepEqual(inlineItems(b), [
      { line: 4, severity: 'info', text: '→ 0 · mapped 8K · iova 0x100000' },
      { line: 5, severity: 'error', text: 'iommu_map → -EINVAL · mapped 0 of 4K · iova 0x100800 · unaligned-map  ‖  iommu_unmap → 0x2000 · iova 0x100000' },
    ]);
    assert.deepEqual(inlineItems(null), []);
  });

  test('CodeLens titles count calls, faults and findings, and stay quiet for untouched functions', () => {
    const b = bindOutcomes(analyzeC(C, 'demo.c'), run());
    const f = b.functions[0];
    assert.equal(lensTitle(f, true), `3 calls · ${1 + f.reviewFindings} finding${1 + f.reviewFindings === 1 ? '' : 's'}`);
    assert.equal(lensTitle({ ...f, calls: 0, faults: 0, simFindings: 0, reviewFindings: 0 }, true), null);
    assert.equal(lensTitle({ ...f, calls: 0, simFindings: 0, faults: 1, reviewFindings: 2 }, false), '1 fault · 2 findings');
  });

  test('the call hover lists every invocation with its arguments, result and kernel lines', () => {
    const b = bindOutcomes(analyzeC(C, 'demo.c'), run());
    const hover = callHoverMarkdown(b.calls.find(c => c.call.line === 5 && c.call.api === 'iommu_map')!);
    assert.equal(hover, [
      '**iommu_map** — 1 call in this run · site `demo.c:demo_map`',
      '',
      '**step 2** (scenario line 7) → **-EINVAL** · iova 0x100800 · asked 4K · mapped 0',
      '```text',
      'iommu_map(domain=d1, iova=0x100800, paddr=0x80000000, size=4096, prot=read)',
      'unaligned: iova 0x100800 pa 0x0000000080000000 size 0x1000 min_pagesz 0x1000',
      'finding [unaligned-map]: iommu_map(0x100800, pa 0x80000000, size 0x1000) is not aligned to the domain\'s smallest page size 0x1000: -EINVAL',
      '```',
    ].join('\n'));
  });

  test('the finding hover has the explanation and the simulated consequence', () => {
    const a = analyzeC('static void f(struct iova_domain *iovad, unsigned long pfn)\n{\n\tPFN_PHYS(pfn);\n\tu32 iova = alloc_iova_fast(iovad, 1, 0, true);\n}\n', 'f.c');
    const f = a.findings.find(x => x.code === 'iova-truncated')!;
    const text = findingHoverMarkdown(f, { text: 'on generic-4k it is so', specific: true }, 'generic-4k');
    assert.match(text, /^\*\*iova-truncated\*\* \(warning\): variable 'iova' holds an IOVA/);
    assert.ok(text.includes(md(f.explain)));
    assert.match(text, /\n\*Simulated:\* on generic-4k it is so\n/);
    assert.match(findingHoverMarkdown(f, { text: 'the run reports it', specific: true }, 'generic-4k'), /\n\*Simulated on generic-4k:\* the run reports it\n/);
    assert.match(text, /Quick fix: Declare 'iova' as dma\\_addr\\_t/);
  });
});
