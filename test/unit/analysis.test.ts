// Driver source analysis: the review checks on the seed 000 patch (extracted at test time from
// ../shared), on the example drivers as posted and as reviewed, and on fixtures for seeds 001/002.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  analyzeC, formatFinding, initParser, locateWasm, REVIEW_CHECKS, runAnnotate, type Analysis, type AnnotateIo, type SourceFinding,
} from '../../simulator/analysis/index';
import {
  driversDir, expectLines, extractAddedC, lineCodes, lineOf, MAPPING_CHECKED, MAPPING_UNCHECKED, OWN_DOMAIN_FIXED,
  OWN_DOMAIN_POSTED, readSeed, SGTABLE_OWN_DEVICE, SGTABLE_SHARED,
} from './analysis-fixtures';

before(async () => { await initParser(); });

/** Apply one quick fix to the text (what an editor would do). */
function applyFix(text: string, f: SourceFinding): string {
  const fix = f.fixes[0];
  assert.ok(fix, `${f.code} at line ${f.line} has no quick fix`);
  return text.slice(0, fix.range.start.index) + fix.newText + text.slice(fix.range.end.index);
}

describe('seed 000: the APU IOMMU patch as posted', () => {
  let files: Map<string, string>;
  let gem: string;
  let a: Analysis;
  before(() => {
    files = extractAddedC(readSeed('000_35d73a35a6aed2ea.txt'));
    gem = files.get('drivers/gpu/drm/apu/apu_gem.c')!;
    a = analyzeC(gem, 'apu_gem.c');
  });

  test('the added C of apu_drv.c, apu_gem.c and apu_sched.c is extracted', () => {
    assert.deepEqual([...files.keys()].sort(),
      ['drivers/gpu/drm/apu/apu_drv.c', 'drivers/gpu/drm/apu/apu_gem.c', 'drivers/gpu/drm/apu/apu_sched.c']);
    assert.ok(!/^[>+]/m.test(gem), 'quoting and diff markers are stripped');
    assert.deepEqual(a.functions.map(f => f.name),
      ['apu_bo_iommu_unmap', 'apu_get_sg_table', 'apu_bo_iommu_map', 'ioctl_gem_iommu_map', 'ioctl_gem_iommu_unmap']);
  });

  test('every problem the review names is found, on its line, and nothing else', () => {
    const L = (needle: string, after?: string) => lineOf(gem, needle, after);
    assert.deepEqual(lineCodes(a.findings), expectLines([
      // apu_bo_iommu_unmap
      [L('int iova_pfn;'), 'iova-truncated'],
      [L('iova_pfn = PHYS_PFN(obj->iova);'), 'mm-pfn-on-iova'],
      [L('iommu_unmap(apu_drm->domain'), 'unmap-per-segment'],
      [L('iommu_unmap(apu_drm->domain'), 'domain-never-allocated'],
      [L('iommu_unmap(apu_drm->domain'), 'mm-pfn-on-iova'],                    // PFN_PHYS(iova_pfn)
      [L('PAGE_ALIGN(obj->iommu_sgt->sgl[i].length));'), 'mm-pfn-on-iova'],    // size of iommu_unmap
      [L('iova_pfn += PHYS_PFN(PAGE_ALIGN(obj->'), 'mm-pfn-on-iova'],
      [L('free_iova(&apu_drm->iovad, PHYS_PFN(obj->iova));'), 'wrong-free-function'],
      [L('free_iova(&apu_drm->iovad, PHYS_PFN(obj->iova));'), 'mm-pfn-on-iova'],
      // apu_bo_iommu_map
      [L('int iova_pfn;', 'int apu_bo_iommu_map('), 'iova-truncated'],
      [L('int iova;'), 'iova-truncated'],
      [L('total_buf_space >> PAGE_SHIFT'), 'mm-pfn-on-iova'],
      [L('apu_obj->iova = PFN_PHYS(iova_pfn);'), 'mm-pfn-on-iova'],
      [L('iommu_map(apu_drm->domain'), 'map-per-sg-entry'],
      [L('iommu_map(apu_drm->domain'), 'domain-never-allocated'],
      [L('iommu_map(apu_drm->domain'), 'mm-pfn-on-iova'],
      [L('PAGE_ALIGN(sgl[i].length), IOMMU_READ'), 'mm-pfn-on-iova'],
      [L('free_iova(&apu_drm->iovad, iova_pfn);'), 'wrong-free-function'],
      [L('return ret;', 'free_iova(&apu_drm->iovad, iova_pfn);'), 'error-path-leak'],
      [L('iova_pfn += PHYS_PFN(PAGE_ALIGN(sgl[i]'), 'mm-pfn-on-iova'],
      // ioctl_gem_iommu_map
      [L('das = kvmalloc_array(args->bo_handle_count'), 'unbounded-user-count'],
      [L('break;', 'TODO: handle error'), 'error-path-leak'],
      [L('goto out;'), 'error-path-leak'],
      [L('return 0;', 'kvfree(bos);'), 'error-return-zero'],
    ]));
  });

  test('findings carry the function, a FILE.c:FUNCTION site and the check\'s severity and explanation', () => {
    const leak = a.findings.find(f => f.code === 'error-path-leak')!;
    assert.equal(leak.function, 'apu_bo_iommu_map');
    assert.equal(leak.site, 'apu_gem.c:apu_bo_iommu_map');
    for (const f of a.findings) {
      assert.equal(f.severity, REVIEW_CHECKS[f.code as keyof typeof REVIEW_CHECKS].severity);
      assert.ok(f.explain.length > 100 && f.message.length > 20);
      assert.equal(f.confidence, 'high');
    }
    const wrongFree = a.findings.filter(f => f.code === 'wrong-free-function');
    assert.equal(wrongFree[0].related?.[0].range.start.line, lineOf(gem, 'iova_pfn = alloc_iova_fast('));
  });

  test('API calls are listed with function, position, arguments and order', () => {
    const alloc = a.calls.find(c => c.api === 'alloc_iova_fast')!;
    assert.equal(alloc.function, 'apu_bo_iommu_map');
    assert.equal(alloc.line, lineOf(gem, 'iova_pfn = alloc_iova_fast('));
    assert.equal(alloc.col, gem.split('\n')[alloc.line - 1].indexOf('alloc_iova_fast') + 1);
    assert.deepEqual(alloc.args, ['&apu_drm->iovad', 'total_buf_space >> PAGE_SHIFT', 'apu_drm->iova_limit_pfn', 'true']);
    const inMap = a.calls.filter(c => c.function === 'apu_bo_iommu_map');
    assert.deepEqual(inMap.map(c => c.order), inMap.map((_, i) => i));
    assert.deepEqual(inMap.map(c => c.api),
      ['alloc_iova_fast', 'PAGE_SHIFT', 'PFN_PHYS', 'iommu_map', 'PFN_PHYS', 'PAGE_ALIGN', 'free_iova', 'PHYS_PFN', 'PAGE_ALIGN']);
    const shift = inMap.find(c => c.api === 'PAGE_SHIFT')!;
    assert.deepEqual([shift.family, shift.args], ['mm', ['total_buf_space']]);
  });

  test('quick fixes: applying them removes the finding they fix', () => {
    const trunc = a.findings.find(f => f.code === 'iova-truncated' && f.line === lineOf(gem, 'int iova;'))!;
    assert.equal(trunc.fixes[0].newText, 'dma_addr_t');
    const fixed = applyFix(gem, trunc);
    assert.ok(fixed.includes('\tdma_addr_t iova;\n'));
    assert.equal(analyzeC(fixed, 'apu_gem.c').findings.filter(f => f.code === 'iova-truncated').length, 2);

    const free = a.findings.find(f => f.code === 'wrong-free-function' && f.fixes.length)!;
    assert.equal(free.line, lineOf(gem, 'free_iova(&apu_drm->iovad, iova_pfn);'));
    const freeFixed = applyFix(gem, free);
    assert.ok(freeFixed.includes('free_iova_fast(&apu_drm->iovad, iova_pfn, total_buf_space >> PAGE_SHIFT);'));
    const after = analyzeC(freeFixed, 'apu_gem.c').findings.filter(f => f.code === 'wrong-free-function');
    assert.deepEqual(after.map(f => f.line), [lineOf(gem, 'free_iova(&apu_drm->iovad, PHYS_PFN(obj->iova));')]);
  });

  test('the fragments of apu_drv.c and apu_sched.c are analysed without findings or crashes', () => {
    const drv = analyzeC(files.get('drivers/gpu/drm/apu/apu_drv.c')!, 'apu_drv.c');
    assert.ok(drv.parseProblems.length > 0, 'a bare initializer fragment cannot parse');
    assert.equal(drv.parseProblems[0].line, 1);
    assert.match(drv.parseProblems[0].message, /^could not parse/);
    const sched = analyzeC(files.get('drivers/gpu/drm/apu/apu_sched.c')!, 'apu_sched.c');
    assert.deepEqual([drv.findings, sched.findings, sched.functions], [[], [], []]);
  });
});

describe('example drivers', () => {
  const posted = fs.readFileSync(path.join(driversDir, 'apu_gem.c'), 'utf8');
  const reviewed = fs.readFileSync(path.join(driversDir, 'apu_gem_reviewed.c'), 'utf8');
  const SITES = ['apu_gem_new', 'apu_gem_iommu_map', 'apu_gem_iommu_unmap', 'apu_job_submit', 'apu_job_cleanup', 'apu_iommu_init'];

  test('both variants define the functions scenarios name as sites', () => {
    for (const [text, file] of [[posted, 'apu_gem.c'], [reviewed, 'apu_gem_reviewed.c']]) {
      const a = analyzeC(text, file);
      const sites = a.functions.map(f => f.site);
      for (const name of SITES) assert.ok(sites.includes(`${file}:${name}`), `${file} lacks ${name}`);
      assert.deepEqual(a.parseProblems, [], `${file} parses cleanly`);
    }
  });

  test('as posted: every seed 000 finding, on its line', () => {
    const a = analyzeC(posted, 'apu_gem.c');
    const L = (needle: string, after?: string) => lineOf(posted, needle, after);
    assert.deepEqual(lineCodes(a.findings), expectLines([
      [L('\tu32 iova;'), 'iova-truncated'],                                       // struct field
      [L('init_iova_domain(&apu->iovad, PAGE_SIZE, 1);'), 'mm-pfn-on-iova'],
      [L('apu->iova_limit_pfn = DMA_BIT_MASK(32) >> PAGE_SHIFT;'), 'mm-pfn-on-iova'],
      [L('\tu32 iova;', 'int apu_gem_iommu_map('), 'iova-truncated'],             // local
      [L('apu_obj->size >> PAGE_SHIFT'), 'mm-pfn-on-iova'],
      [L('apu_obj->iova = PFN_PHYS(iova_pfn);'), 'mm-pfn-on-iova'],
      [L('ret = iommu_map(apu->domain'), 'map-per-sg-entry'],
      [L('ret = iommu_map(apu->domain'), 'domain-never-allocated'],
      [L('PAGE_ALIGN(sg->length),'), 'mm-pfn-on-iova'],
      [L('free_iova(&apu->iovad, iova_pfn);'), 'wrong-free-function'],
      [L('return ret;', 'free_iova(&apu->iovad, iova_pfn);'), 'error-path-leak'],
      [L('iova += PAGE_ALIGN(sg->length);'), 'mm-pfn-on-iova'],
      [L('iommu_unmap(apu->domain'), 'unmap-per-segment'],
      [L('iommu_unmap(apu->domain'), 'domain-never-allocated'],
      [L('iommu_unmap(apu->domain'), 'mm-pfn-on-iova'],
      [L('iova += PAGE_ALIGN(sg->length);', 'iommu_unmap(apu->domain'), 'mm-pfn-on-iova'],
      [L('free_iova(&apu->iovad, PHYS_PFN(apu_obj->iova));'), 'wrong-free-function'],
      [L('free_iova(&apu->iovad, PHYS_PFN(apu_obj->iova));'), 'mm-pfn-on-iova'],
      [L('das = kvmalloc_array(args->bo_handle_count'), 'unbounded-user-count'],
      [L('break;', 'TODO: unwind'), 'error-path-leak'],
      [L('goto out;'), 'error-path-leak'],
      [L('return 0;', 'kvfree(das);'), 'error-return-zero'],
    ]));
    const bySite = new Set(a.findings.map(f => f.site));
    for (const fn of ['apu_iommu_init', 'apu_gem_iommu_map', 'apu_gem_iommu_unmap', 'apu_ioctl_gem_iommu_map']) {
      assert.ok(bySite.has(`apu_gem.c:${fn}`), fn);
    }
  });

  test('as reviewed: none of them', () => {
    assert.deepEqual(analyzeC(reviewed, 'apu_gem_reviewed.c').findings.map(f => `${f.line} ${f.code}: ${f.message}`), []);
  });
});

describe('seed 001 and 002 patterns, and more of each check', () => {
  const L = lineOf;
  test('own-domain-with-dma-api: the DMA API on a device attached to its own domain', () => {
    const a = analyzeC(OWN_DOMAIN_POSTED, 'msm.c');
    assert.deepEqual(lineCodes(a.findings), expectLines([
      [L(OWN_DOMAIN_POSTED, 'dma_map_sgtable(priv->dev'), 'own-domain-with-dma-api'],
      [L(OWN_DOMAIN_POSTED, 'addr = dma_map_single(dev,'), 'own-domain-with-dma-api'],   // through a local alias
    ]));
    assert.equal(a.findings[0].related?.[0].range.start.line, L(OWN_DOMAIN_POSTED, 'iommu_attach_device('));
    assert.deepEqual(analyzeC(OWN_DOMAIN_FIXED, 'msm.c').findings, []);
  });

  test('dma-get-sgtable-sharing: a coherent buffer\'s table mapped for another device', () => {
    const a = analyzeC(SGTABLE_SHARED, 'dcp.c');
    assert.deepEqual(lineCodes(a.findings), expectLines([[L(SGTABLE_SHARED, 'dma_get_sgtable('), 'dma-get-sgtable-sharing']]));
    assert.match(a.findings[0].message, /dcp->piodma/);
    assert.deepEqual(analyzeC(SGTABLE_OWN_DEVICE, 'dcp.c').findings, []);
  });

  test('mapping-error-unchecked: stored and unstored results, and the checked version', () => {
    const a = analyzeC(MAPPING_UNCHECKED, 'nic.c');
    assert.deepEqual(lineCodes(a.findings), expectLines([
      [L(MAPPING_UNCHECKED, 'addr = dma_map_single('), 'mapping-error-unchecked'],
      [L(MAPPING_UNCHECKED, 'writeq(dma_map_page('), 'mapping-error-unchecked'],
    ]));
    assert.deepEqual(analyzeC(MAPPING_CHECKED, 'nic.c').findings, []);
  });

  test('iova-truncated: a narrow variable that stores a DMA address, whatever its name', () => {
    const text = 'int f(struct dev *d, void *p)\n{\n\tu32 addr;\n\n\taddr = dma_map_single(d->dev, p, 64, DMA_TO_DEVICE);\n'
      + '\tif (dma_mapping_error(d->dev, addr))\n\t\treturn -ENOMEM;\n\treturn 0;\n}\n';
    const [finding, ...rest] = analyzeC(text, 'n.c').findings;
    assert.deepEqual(rest, []);
    assert.deepEqual([finding.code, finding.line, finding.fixes[0].newText, finding.related?.[0].range.start.line],
      ['iova-truncated', 3, 'dma_addr_t', 5]);
    assert.match(finding.message, /stores the result of dma_map_single\(\)/);
  });

  test('unbounded-user-count: copy_from_user targets and copied counts, bounded or not', () => {
    const unbounded = 'long f(void __user *uptr)\n{\n\tstruct foo_args a;\n\tu32 n;\n\tvoid *p, *q;\n\n'
      + '\tif (copy_from_user(&a, uptr, sizeof(a)))\n\t\treturn -EFAULT;\n'
      + '\tp = kcalloc(a.count, sizeof(u64), GFP_KERNEL);\n\tn = a.nr_items;\n\tq = kvmalloc_array(n, 16, GFP_KERNEL);\n'
      + '\tkfree(p);\n\tkvfree(q);\n\treturn 0;\n}\n';
    assert.deepEqual(lineCodes(analyzeC(unbounded, 'u.c').findings), expectLines([[9, 'unbounded-user-count'], [11, 'unbounded-user-count']]));
    const bounded = unbounded.replace('\tp = kcalloc', '\tif (a.count > 64 || a.nr_items >= SZ_1K)\n\t\treturn -EINVAL;\n\tp = kcalloc');
    assert.deepEqual(analyzeC(bounded, 'u.c').findings, []);
    const nullTestOnly = unbounded.replace('\tp = kcalloc', '\tif (!a.count)\n\t\treturn -EINVAL;\n\tp = kcalloc');
    assert.equal(analyzeC(nullTestOnly, 'u.c').findings.length, 2, 'a zero test is not an upper bound');
  });

  test('wrong-free-function the other way round: alloc_iova() ranges given to free_iova_fast()', () => {
    const text = 'void f(struct my *m)\n{\n\tstruct iova *iova = alloc_iova(&m->iovad, 4, m->limit, true);\n\n'
      + '\tfree_iova_fast(&m->iovad, iova->pfn_lo, 4);\n}\n';
    const [finding] = analyzeC(text, 'my.c').findings;
    assert.deepEqual([finding.code, finding.line, finding.fixes[0].newText], ['wrong-free-function', 5, 'free_iova(&m->iovad, iova->pfn_lo)']);
  });
});

describe('iommu-lens annotate', () => {
  const posted = fs.readFileSync(path.join(driversDir, 'apu_gem.c'), 'utf8');
  async function run(argv: string[], files: Record<string, string>, extra: Partial<AnnotateIo> = {}) {
    let out = '';
    let err = '';
    const code = await runAnnotate(argv, {
      stdout: t => { out += t; }, stderr: t => { err += t; },
      readFile: p => {
        if (p in files) return files[p];
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
      },
      ...extra,
    });
    return { code, out, err };
  }

  test('prints one compiler-style line per finding and exits 0', async () => {
    const r = await run(['drivers/apu_gem.c'], { 'drivers/apu_gem.c': posted });
    assert.deepEqual([r.code, r.err], [0, '']);
    const lines = r.out.trimEnd().split('\n');
    const expected = analyzeC(posted, 'drivers/apu_gem.c').findings;
    assert.equal(lines.length, expected.length);
    for (const l of lines) assert.match(l, /^drivers\/apu_gem\.c:\d+:\d+: (error|warning|info): .+ \[[a-z-]+\]$/);
    const line = lineOf(posted, 'free_iova(&apu->iovad, iova_pfn);');
    const col = posted.split('\n')[line - 1].indexOf('free_iova') + 1;
    assert.ok(lines.includes(`drivers/apu_gem.c:${line}:${col}: error: free_iova() releases a range from alloc_iova_fast() `
      + `(line ${lineOf(posted, 'iova_pfn = alloc_iova_fast(')}) on 'iovad': ranges from the rcache allocator go back with `
      + 'free_iova_fast(iovad, pfn, size) [wrong-free-function]'), r.out);
    assert.equal(lines[0], formatFinding(expected[0]));
  });

  test('--json prints the whole analysis; a leading "annotate" word is accepted', async () => {
    const r = await run(['annotate', '--json', 'apu_gem.c'], { 'apu_gem.c': posted });
    assert.equal(r.code, 0);
    const json = JSON.parse(r.out);
    assert.deepEqual(json, JSON.parse(JSON.stringify(analyzeC(posted, 'apu_gem.c'))));
  });

  test('regions that could not be parsed are printed as info lines', async () => {
    const r = await run(['bad.c'], { 'bad.c': 'int f(void)\n{\n\tint x = ;\n}\n' });
    assert.deepEqual([r.code, r.out], [0, "bad.c:3:9: info: could not parse: expected 'identifier' here [could-not-parse]\n"]);
  });

  test('bad usage and unreadable files: exit 2 with one clear line', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /^usage: iommu-lens annotate FILE\.c/],
      [['--bogus', 'a.c'], /^iommu-lens annotate: unknown option '--bogus'/],
      [['a.c', 'b.c'], /^iommu-lens annotate: one C file at a time, got 'a\.c' and 'b\.c'$/],
      [['missing.c'], /^iommu-lens annotate: cannot read 'missing\.c': no such file$/],
      [['a.c', '--scenario'], /^iommu-lens annotate: --scenario needs a scenario file/],
      [['a.c', '--scenario', 'gone.iommu.yaml'], /^iommu-lens annotate: cannot read scenario 'gone\.iommu\.yaml': no such file$/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv, { 'a.c': 'int x;\n' });
      assert.equal(r.code, 2, argv.join(' '));
      assert.equal(r.out, '');
      assert.match(r.err.trimEnd(), message);
      assert.equal(r.err.trimEnd().split('\n').length, 1, `one line: ${r.err}`);
    }
  });

  test('--scenario hands the analysis to bindOutcomes and prints what it returns', async () => {
    const files = { 'apu_gem.c': posted, 's.iommu.yaml': 'steps: []\n' };
    const without = await run(['apu_gem.c', '--scenario', 's.iommu.yaml'], files);
    assert.equal(without.code, 0);
    assert.match(without.err, /simulated outcomes are not bound to source in this build/);
    let seen: [number, string, string] | null = null;
    const bindOutcomes: AnnotateIo['bindOutcomes'] = (analysis, scenario, text) => {
      seen = [analysis.functions.length, scenario, text];
      const fn = analysis.functions.find(f => f.name === 'apu_gem_iommu_map')!;
      return [{ ...analysis.findings[0], code: 'exposure', severity: 'warning', message: 'maps 12K beyond the buffer',
        line: fn.range.start.line, col: 1, range: fn.range, function: fn.name, site: fn.site, fixes: [] }];
    };
    const bound = await run(['apu_gem.c', '--scenario=s.iommu.yaml'], files, { bindOutcomes });
    assert.deepEqual(seen, [analyzeC(posted, 'x.c').functions.length, 's.iommu.yaml', 'steps: []\n']);
    assert.ok(bound.out.includes(`apu_gem.c:${lineOf(posted, 'int apu_gem_iommu_map(')}:1: warning: maps 12K beyond the buffer [exposure]`));
    const failing = await run(['apu_gem.c', '--scenario', 's.iommu.yaml'], files,
      { bindOutcomes: () => { throw new Error('s.iommu.yaml:1:1: error: unknown op'); } });
    assert.deepEqual([failing.code, failing.err], [2, 'iommu-lens annotate: s.iommu.yaml:1:1: error: unknown op\n']);
  });
});

describe('parser loading', () => {
  test('the wasm files are found in node_modules from source, or in an explicit directory', () => {
    const found = locateWasm();
    assert.match(found.runtime, /web-tree-sitter[\\/]tree-sitter\.wasm$/);
    assert.match(found.grammar, /tree-sitter-c[\\/]tree-sitter-c\.wasm$/);
    assert.throws(() => locateWasm({ wasmDir: '/nonexistent/dist' }),
      /tree-sitter wasm not found: \/nonexistent\/dist\/tree-sitter\.wasm, \/nonexistent\/dist\/tree-sitter-c\.wasm/);
  });

  test('the C grammar\'s ABI is one the runtime accepts', async () => {
    const language = await initParser();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtime = require('web-tree-sitter') as typeof import('web-tree-sitter');
    assert.equal(language.name, 'c');
    assert.ok(language.abiVersion >= runtime.MIN_COMPATIBLE_VERSION && language.abiVersion <= runtime.LANGUAGE_VERSION,
      `grammar ABI ${language.abiVersion}, runtime ${runtime.MIN_COMPATIBLE_VERSION}..${runtime.LANGUAGE_VERSION}`);
  });
});
