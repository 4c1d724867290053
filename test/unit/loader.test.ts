// Scenario loader: every kind of bad input is reported at its exact FILE:LINE:COL with a useful message,
// and good input becomes exact values (sizes, hex, references) with positions. The IOMMU model and the
// preset used here are registered by this file, so the tests do not depend on the real models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerModelParams, registerPreset } from '../../simulator/platform/registry';
import { loadScenario, loadScenarioFile, ScenarioError } from '../../simulator/scenario/loader';
import type { RefExpr, Scenario } from '../../simulator/scenario/types';

registerModelParams({
  model: 'loader-test-dart', doc: 'test model',
  params: { bypass: { type: 'bool' }, pgsize_bitmap: { type: { list: 'u64' } }, ias: { type: 'int', min: 32, max: 64 } },
});
registerPreset({
  name: 'loader-test-board', doc: 'test preset', kernel: { page_size: '16K', dma_strict: false },
  yaml: 'memory: { base: 0x800000000, size: 8G }\niommus:\n  - { name: dart0, model: loader-test-dart, bypass: false }\n'
    + 'devices:\n  - { name: xhci, iommu: dart0, streams: [1] }\n',
});
registerPreset({ name: 'loader-broken-board', doc: 'a preset with a bad key', yaml: 'iommus: []\ndevics: []\n' });

const FILE = 't.iommu.yaml';
const P = 'platform: loader-test-board\n';

function errorOf(text: string, file = FILE): string {
  try {
    loadScenario(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return e.format();
    throw e;
  }
  return assert.fail('expected a ScenarioError');
}

/** The error must be at exactly line:col and contain the fragment. */
function assertError(text: string, where: string, fragment: string, file = FILE): void {
  const msg = errorOf(text, file);
  assert.ok(msg.startsWith(`${file}:${where}: error: `), `wrong position: ${msg}`);
  assert.ok(msg.includes(fragment), `message lacks '${fragment}': ${msg}`);
}

function steps(body: string): string {
  return `${P}steps:\n${body}`;
}

test('YAML syntax errors carry the yaml package position', () => {
  assertError(steps('  - probe: [xhci\n'), '4:1', 'YAML syntax: Flow sequence in block collection');
  assertError('name: "abc\nplatform: x\n', '3:1', 'YAML syntax: Missing closing "quote');
  assertError('platform: a\n  b: c\n', '1:11', 'YAML syntax: Nested mappings are not allowed in compact mappings');
});

test('duplicate keys are errors at the second key', () => {
  assertError(`${P}name: a\nname: b\n`, '3:1', "duplicate key 'name' (first given at line 2, column 1)");
  assertError(steps('  - kmalloc: { size: 4K, size: 8K }\n'), '3:26', "duplicate key 'size' (first given at line 3, column 16)");
});

test('unknown top-level, kernel, platform and step keys suggest the nearest name', () => {
  assertError('plaform: loader-test-board\n', '1:1', "unknown key 'plaform'; did you mean 'platform'?");
  assertError(`${P}kernel:\n  page_sise: 4K\n`, '3:3', "unknown key 'page_sise' in kernel; did you mean 'page_size'?");
  assertError('platform:\n  memroy: { size: 1G }\n', '2:3', "unknown key 'memroy' in platform; did you mean 'memory'?");
  assertError(steps('  - kmalloc: { sze: 4K }\n'), '3:16', "unknown argument 'sze' for kmalloc; did you mean 'size'?");
  assertError(steps('  - probe: xhci\n    expcet: { result: ok }\n'), '4:5', "unknown step key 'expcet'; did you mean 'expect'?");
  assertError(steps('  - probe: xhci\n    expect: { reslt: ok }\n'), '4:15', "unknown key 'reslt' in expect; did you mean 'result'?");
  assertError('zzz: 1\n', '1:1', "unknown key 'zzz'; expected one of: name, description, platform");
});

test('unknown ops suggest the nearest op', () => {
  assertError(steps('  - probe: xhci\n  - iommu_mpa: { domain: d1, iova: 0, paddr: 0, size: 4K }\n'), '4:5',
    "unknown op 'iommu_mpa'; did you mean 'iommu_map'?");
  assertError(steps('  - probe: xhci\n    kmalloc: { size: 4K }\n'), '4:5', "step 0 has two ops, 'probe' and 'kmalloc'");
  assertError(steps('  - as: x\n'), '3:5', 'step 0 has no op');
});

test('argument values are checked against the op schema', () => {
  assertError(steps('  - dma_map_single: { dev: xhci, paddr: 0, size: 4K, dir: to_devce }\n'), '3:59',
    "dma_map_single dir: bad value 'to_devce'; did you mean 'to_device'?");
  assertError(steps('  - iommu_map: { domain: d1, iova: 0, paddr: 0 }\n'), '3:16', "missing required argument 'size' for iommu_map");
  assertError(steps('  - kmalloc:\n'), '3:5', "missing required argument 'size' for kmalloc");
  assertError(steps('  - iommu_map: { domain: d1, iova: 0, paddr: 0, size: 4K, prot: read }\n'), '3:65', "iommu_map prot: expected a list ([...]) of values from: read, write, cache, noexec, mmio, priv; got 'read'");
  assertError(steps('  - iommu_map: { domain: d1, iova: 0, paddr: 0, size: 4K, prot: [read, wirte] }\n'), '3:72',
    "iommu_map prot[1]: bad value 'wirte'; did you mean 'write'?");
  assertError(steps('  - iommu_map_sg: { domain: d1, iova: 0, sg: [{ paddr: 0, lenn: 4K }] }\n'), '3:59',
    "unknown key 'lenn' in iommu_map_sg sg[0]; did you mean 'len'?");
  assertError(steps('  - init_iova_domain: { granule: 4K, start_pfn: 1, rcache: yes }\n'), '3:60', 'YAML 1.2: write true or false');
  assertError(steps('  - probe: { dev: xhci }\n'), '3:12', 'probe takes a name');
});

test('sizes must be exact: fractions of a byte, floats, negatives and 2^53 or more are refused', () => {
  const size = (v: string) => steps(`  - kmalloc: { size: ${v} }\n`);
  assertError(size('0.3K'), '3:22', "kmalloc size: '0.3K' is not a whole number of bytes");
  assertError(size('4096.5'), '3:22', "'4096.5' is not a whole number");
  assertError(size('-4K'), '3:22', 'negative value -4K is not allowed here');
  assertError(size('0x20000000000000'), '3:22', 'value 0x20000000000000 cannot be represented exactly (limit 2^53-1)');
  assertError(size('9007199254740992'), '3:22', 'value 9007199254740992 cannot be represented exactly');
  // A YAML integer that a double cannot hold: detected from the text, not from the rounded number.
  assertError(size('18446744073709551615'), '3:22', 'value 18446744073709551615 cannot be represented exactly');
  assertError(size('8P'), '3:22', 'value 8P cannot be represented exactly');
  assertError(size('16KB'), '3:22', "'16KB' is not a size: write 16K or 16KiB");
  assertError(size('1e3'), '3:22', "expected a size or address (integer, \"0x4000\" or \"16K\"), got '1e3'");
  assertError(size('"0x"'), '3:22', 'expected a size or address');
});

test('int fields honour min, max and signedness', () => {
  assertError(steps('  - alloc_pages: { order: 21 }\n'), '3:27', 'alloc_pages order: 21 is out of range (max 20)');
  assertError(steps('  - alloc_pages: { order: -1 }\n'), '3:27', 'negative value -1 is not allowed here');
  assertError(steps('  - alloc_pages: { order: 2K }\n'), '3:27', "expected an integer, got '2K'");
  assertError(`${P}kernel: { page_size: 8K }\n`, '2:22', 'kernel page_size: 8K is not a page size Linux supports here');
  assertError('platform:\n  iommus:\n    - { name: d0, model: loader-test-dart, ias: 30 }\n', '3:49', 'IOMMU d0 ias: 30 is out of range (min 32)');
});

test('references must name an earlier as: binding and parse cleanly', () => {
  assertError(steps('  - kmalloc: { size: 4K, as: buf }\n  - kfree: { paddr: $bf.paddr }\n'), '4:21',
    "unknown reference '$bf'; did you mean '$buf'?");
  assertError(steps('  - kfree: { paddr: "$buf.paddr" }\n  - kmalloc: { size: 4K }\n    as: buf\n'), '3:21',
    "unknown reference '$buf' ('$buf' is only set later, at line 5)");
  assertError(steps('  - kmalloc: { size: 4K, as: buf }\n  - kfree: { paddr: "$buf.paddr +" }\n'), '4:21',
    "bad reference '$buf.paddr +': expected a value after '+'");
  assertError(steps('  - kmalloc: { size: 4K, as: buf }\n  - kfree: { paddr: "$buf.paddr + 0.3K" }\n'), '4:21', "'0.3K' is not a whole number of bytes");
  assertError(steps('  - kmalloc: { size: 4K, as: buf }\n  - kfree: { paddr: "$buf.entries[x]" }\n'), '4:21', 'expected [N] with a whole number N');
  assertError(steps('  - kmalloc: { size: 4K, as: 9buf }\n'), '3:30', "as: '9buf' is not a valid name");
  assertError('platform:\n  memory: { base: $x }\n', '2:19', "references ('$x') can only be used in steps");
});

test('expect values: results, errnos, counts and finding codes', () => {
  const expect = (e: string) => steps(`  - probe: xhci\n    expect: { ${e} }\n`);
  assertError(expect('result: -EINVLA'), '4:23', "unknown errno '-EINVLA'; did you mean '-EINVAL'?");
  assertError(expect('result: EINVAL'), '4:23', "write the errno as the kernel returns it: '-EINVAL'");
  assertError(expect('result: OK'), '4:23', "bad value 'OK'; did you mean 'ok'?");
  assertError(expect('result: okay'), '4:23', "expected a number, ok, oops, null, DMA_MAPPING_ERROR or an errno such as -EINVAL, got 'okay'");
  assertError(expect('faults: -1'), '4:23', 'negative value -1');
  assertError(expect('exposed: 1.1K'), '4:24', 'not a whole number of bytes');
  assertError(expect('finding: Exposure'), '4:24', "bad code 'Exposure'");
});

test('presets, models and devices are checked with suggestions', () => {
  assertError('platform: loader-test-bord\n', '1:11', "unknown platform preset 'loader-test-bord'; did you mean 'loader-test-board'?");
  assertError('platform:\n  iommus:\n    - { name: d0, model: loader-test-drat }\n', '3:26',
    "unknown IOMMU model 'loader-test-drat'; did you mean 'loader-test-dart'?");
  assertError('platform:\n  iommus:\n    - { name: d0, model: loader-test-dart, bypas: true }\n', '3:44',
    "unknown parameter 'bypas' for IOMMU model loader-test-dart; did you mean 'bypass'?");
  // A preset's own errors point into the preset text.
  assertError('platform: loader-broken-board\n', '2:1', "unknown key 'devics' in platform; did you mean 'devices'?", 'preset:loader-broken-board');
  assertError(`${P}devices:\n  - { name: xhci }\n`, '3:13', "duplicate device 'xhci' (first defined at preset:loader-test-board:5:5)");
  assertError('platform:\n  devices:\n    - { name: a }\n    - { name: a }\n', '4:15', "duplicate device 'a' (first defined at t.iommu.yaml:3:7)");
  assertError(`${P}devices:\n  - { name: nvme, iommu: dart1 }\n`, '3:26', "device nvme: unknown IOMMU 'dart1'; did you mean 'dart0'?");
  assertError(`${P}devices:\n  - { name: nvme, dma_mask: 0xffffffff }\n`, '3:29', 'dma_mask: 4294967295 is out of range (1..64)');
  assertError(`${P}devices:\n  - { name: nvme, bus: pcie }\n`, '3:24', "bad value 'pcie'; did you mean 'pci'?");
  assertError(`${P}devices:\n  - { name: nvme, streams: [0x10, -1] }\n`, '3:35', 'negative value -1');
});

test('site must look like FILE.c:FUNCTION, FILE.c:LINE or FILE.c:FUNCTION:LINE', () => {
  assertError(steps('  - probe: xhci\n    site: xhci.c\n'), '4:11', "bad site 'xhci.c': expected \"FILE.c:FUNCTION\"");
  assertError(steps('  - probe: xhci\n    site: "xhci.c:0"\n'), '4:11', 'bad site');
  for (const site of ['xhci-plat.c:xhci_probe', 'drivers/usb/xhci.c:412', 'apu_gem.c:apu_gem_map:88', 'dma-iommu.h:iova_align']) {
    const s = loadScenario(steps(`  - probe: xhci\n    site: ${site}\n`), FILE);
    assert.equal(s.steps[0].site, site);
  }
});

test('files must be readable UTF-8 text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loader-test-'));
  const write = (name: string, bytes: Uint8Array | string) => {
    writeFileSync(join(dir, name), bytes);
    return join(dir, name);
  };
  const fileError = (path: string) => {
    try {
      loadScenarioFile(path);
    } catch (e) {
      if (e instanceof ScenarioError) return e.format();
      throw e;
    }
    return assert.fail('expected a ScenarioError');
  };
  const missing = join(dir, 'missing.iommu.yaml');
  assert.equal(fileError(missing), `${missing}:1:1: error: cannot read scenario file: no such file`);
  mkdirSync(join(dir, 'd.iommu.yaml'));
  assert.match(fileError(join(dir, 'd.iommu.yaml')), /:1:1: error: cannot read scenario file: it is a directory$/);
  const nul = write('nul.iommu.yaml', 'platform: x\nna\0me: y\n');
  assert.equal(fileError(nul), `${nul}:2:3: error: file contains a NUL byte: scenario files must be UTF-8 text`);
  const latin1 = write('latin1.iommu.yaml', Buffer.from([...Buffer.from('platform: x\nname: caf'), 0xe9, 0x0a]));
  assert.equal(fileError(latin1), `${latin1}:2:10: error: invalid UTF-8 (byte 0xe9): scenario files must be UTF-8 text`);
  const utf16 = write('u16.iommu.yaml', Buffer.from('\ufeffplatform: x\n', 'utf16le'));
  assert.match(fileError(utf16), /:1:1: error: file is UTF-16 text; save it as UTF-8$/);
  const good = write('good.iommu.yaml', `\ufeff${P}name: café\nsteps:\n  - probe: xhci\n`);
  assert.equal(loadScenarioFile(good).name, 'café');
  assert.equal(loadScenarioFile(good).steps[0].pos.line, 4);
  assertError('platform: x\0\n', '1:12', 'NUL character');
});

test('an empty file or a non-mapping document is refused', () => {
  assertError('', '1:1', 'empty scenario');
  assertError('# only a comment\n', '1:1', 'empty scenario');
  assertError('- probe: xhci\n', '1:1', 'scenario: expected a mapping');
  assertError('name: x\n', '1:1', "missing required key 'platform'");
});

function only<T>(v: T | undefined): T {
  assert.ok(v !== undefined);
  return v;
}

test('values: integers, hex, sizes with binary suffixes, and exact fractions', () => {
  const values = ['4096', '"0x4000"', '0X10', '16K', '16k', '16KiB', '2M', '1G', '1T', '1.5K', '0.5M', '"4096"', '0x1fffffffffffff'];
  const expected = [4096, 0x4000, 16, 16384, 16384, 16384, 2 ** 21, 2 ** 30, 2 ** 40, 1536, 2 ** 19, 4096, 2 ** 53 - 1];
  const body = values.map(v => `  - kmalloc: { size: ${v} }\n`).join('');
  const s = loadScenario(steps(body), FILE);
  assert.deepEqual(s.steps.map(st => (st.args as { size: number }).size), expected);
});

test('references keep their terms and positions; arithmetic with literal terms', () => {
  const s = loadScenario(steps('  - kmalloc: { size: 4K, as: a }\n  - dma_map_single:\n      dev: xhci\n'
    + '      paddr: "$a.paddr + 16K - 4K"\n      size: 4K\n      dir: to_device\n    as: h\n'
    + '  - dma_unmap_single: { dev: xhci, dma: $h, size: 4K, dir: to_device }\n'
    + '  - dma_sync_single_for_cpu: { dev: xhci, dma: "$sg.entries[1].dma", size: 4K, dir: from_device }\n'.replace('$sg', '$h')), FILE);
  const paddr = (s.steps[1].args as { paddr: RefExpr }).paddr;
  assert.equal(paddr.kind, 'expr');
  assert.equal(paddr.text, '$a.paddr + 16K - 4K');
  assert.deepEqual(paddr.terms.map(t => ({ ...t })), [
    { sign: 1, ref: { name: 'a', path: ['paddr'] } }, { sign: 1, value: 16384 }, { sign: -1, value: 4096 },
  ]);
  assert.deepEqual(paddr.pos, { file: FILE, line: 6, col: 14 });
  const path = (s.steps[3].args as { dma: RefExpr }).dma.terms[0].ref?.path;
  assert.deepEqual(path, ['entries', 1, 'dma']);
  assert.equal(s.steps[1].as, 'h');
  assert.deepEqual(s.steps[1].pos, { file: FILE, line: 4, col: 5 });
  assert.deepEqual(s.steps[1].argPos, {
    dev: { file: FILE, line: 5, col: 7 }, paddr: { file: FILE, line: 6, col: 7 },
    size: { file: FILE, line: 7, col: 7 }, dir: { file: FILE, line: 8, col: 7 },
  });
  assert.deepEqual(s.steps[0].argPos, { size: { file: FILE, line: 3, col: 16 } });
  // Positions are kept in a compact table and made on access; JSON still carries them.
  const json = JSON.parse(JSON.stringify(s.steps[1]));
  assert.deepEqual([json.pos, json.argPos.paddr, json.args.paddr.pos], [s.steps[1].pos, s.steps[1].argPos.paddr, paddr.pos]);
});

test('handles accept a $reference or a bare id; sg accepts a list or a handle', () => {
  const s = loadScenario(steps('  - iommu_domain_alloc: { dev: xhci, type: unmanaged }\n    as: d\n'
    + '  - iommu_map: { domain: $d, iova: 0, paddr: 0, size: 4K }\n  - iommu_map: { domain: d1, iova: 0, paddr: 0, size: 4K, prot: [read] }\n'
    + '  - dma_map_sg: { dev: xhci, sg: [{ paddr: 0x1000, len: 4K }, { paddr: 0x3000, len: 2K }], dir: to_device, as: sg }\n'
    + '  - dma_unmap_sg: { dev: xhci, sg: $sg, dir: to_device }\n'), FILE);
  assert.equal(((s.steps[1].args as { domain: RefExpr }).domain).text, '$d');
  assert.equal((s.steps[2].args as { domain: string }).domain, 'd1');
  assert.deepEqual((s.steps[2].args as { prot: string[] }).prot, ['read']);
  assert.deepEqual((s.steps[3].args as { sg: unknown }).sg, [{ paddr: 0x1000, len: 4096 }, { paddr: 0x3000, len: 2048 }]);
  assert.equal(s.steps[3].as, 'sg');
  assert.equal(((s.steps[4].args as { sg: RefExpr }).sg).text, '$sg');
});

test('as: may be rebound; the rebinding is recorded', () => {
  const s = loadScenario(steps('  - kmalloc: { size: 4K }\n    as: b\n  - kmalloc: { size: 8K, as: b }\n  - kfree: { paddr: $b.paddr }\n'), FILE);
  assert.deepEqual(s.rebinds, [{ name: 'b', step: 1, previousStep: 0, line: 5 }]);
  assertError(steps('  - kmalloc: { size: 4K, as: b }\n    as: c\n'), '3:26', "'as' is given twice for step 0");
});

test('expect: results, counts, sizes, findings and their key positions', () => {
  const s = loadScenario(steps('  - probe: xhci\n    expect: { result: ok, faults: 0, exposed: 12K, finding: [exposure, unaligned-map] }\n'
    + '  - probe: xhci\n    expect:\n      result: -ENODEV\n  - probe: xhci\n    expect: { result: null }\n'
    + '  - probe: xhci\n    expect: { result: DMA_MAPPING_ERROR, finding: leak }\n  - probe: xhci\n    expect: { result: 0x1000 }\n'), FILE);
  const e = s.steps.map(st => only(st.expect));
  assert.equal(e[0].result, 'ok');
  assert.equal(e[0].faults, 0);
  assert.equal(e[0].exposed, 12288);
  assert.deepEqual(e[0].finding, ['exposure', 'unaligned-map']);
  assert.deepEqual(e[0].pos, { file: FILE, line: 4, col: 5 });
  assert.deepEqual(e[0].keyPos.exposed, { file: FILE, line: 4, col: 38 });
  assert.equal(e[1].result, '-ENODEV');
  assert.equal(e[2].result, null);
  assert.equal(e[3].result, 'DMA_MAPPING_ERROR');
  assert.equal(e[3].finding, 'leak');
  assert.equal(e[4].result, 4096);
});

test('a preset supplies platform and kernel defaults; the file overrides and adds devices', () => {
  const s = loadScenario(`${P}kernel: { dma_strict: true, version: "6.12", options: { fq_size: 256 } }\n`
    + 'devices:\n  - { name: nvme, iommu: dart0, streams: [2, 0x3], bus: pci, untrusted: true, dma_mask: 32, params: { quirk: x } }\n', FILE);
  assert.equal(s.platform.name, 'loader-test-board');
  assert.deepEqual(s.platform.memory, { base: 0x800000000, size: 8 * 2 ** 30 });
  assert.deepEqual(s.platform.iommus.map(i => [i.name, i.model, i.params]), [['dart0', 'loader-test-dart', { bypass: false }]]);
  assert.equal(s.platform.iommus[0].pos.file, 'preset:loader-test-board');
  assert.deepEqual(s.platform.devices.map(d => d.name), ['xhci', 'nvme']);
  const [xhci, nvme] = s.platform.devices;
  assert.deepEqual({ ...xhci, pos: undefined }, {
    name: 'xhci', iommu: 'dart0', streams: [1], bus: 'platform', untrusted: false, coherent: true, dma_mask: 64, params: {}, pos: undefined,
  });
  assert.deepEqual([nvme.streams, nvme.bus, nvme.untrusted, nvme.dma_mask, nvme.params], [[2, 3], 'pci', true, 32, { quirk: 'x' }]);
  assert.deepEqual(s.kernel, { page_size: 16384, large_iommu_pages: false, dma_strict: true, swiotlb: true, version: '6.12', options: { fq_size: 256 } });
  assert.equal(s.name, 't');
  assert.deepEqual(s.steps, []);
});

test('an inline platform gets default memory and device defaults', () => {
  const s: Scenario = loadScenario('name: inline\nplatform:\n  iommus: [{ name: s0, model: loader-test-dart, pgsize_bitmap: [4K, 2M, 1G] }]\n'
    + '  devices:\n    - { name: "00:01.0", iommus: [s0], group: g1 }\n    - { name: dma-less }\n', FILE);
  assert.equal(s.platform.name, 'inline');
  assert.deepEqual(s.platform.memory, { base: 0x80000000, size: 4 * 2 ** 30 });
  assert.deepEqual(s.platform.iommus[0].params, { pgsize_bitmap: [4096, 2 ** 21, 2 ** 30] });
  const [pci, plain] = s.platform.devices;
  assert.deepEqual([pci.iommu, pci.iommus, pci.group], ['s0', ['s0'], 'g1']);
  assert.equal(plain.iommu, null);
  assert.deepEqual(s.kernel, { page_size: 4096, large_iommu_pages: false, dma_strict: true, swiotlb: true, options: {} });
});

test('JSON input loads to the same scenario as YAML', () => {
  const yaml = loadScenario(steps('  - kmalloc: { size: 16K, as: b }\n  - kfree: { paddr: "$b.paddr + 0x10" }\n'), 'a.iommu.yaml');
  const json = loadScenario(JSON.stringify({
    platform: 'loader-test-board', steps: [{ kmalloc: { size: '16K', as: 'b' } }, { kfree: { paddr: '$b.paddr + 0x10' } }],
  }, null, 2), 'a.iommu.json');
  const strip = (sc: Scenario) => sc.steps.map(st => ({ op: st.op, as: st.as, args: JSON.parse(JSON.stringify(st.args, (k, v) => k === 'pos' ? undefined : v)) }));
  assert.deepEqual(strip(json), strip(yaml));
  assert.deepEqual(json.steps[0].pos, { file: 'a.iommu.json', line: 5, col: 7 });
});

test('YAML the fast parser leaves to the yaml package loads the same (anchors, block scalars, CRLF)', () => {
  const plain = loadScenario(steps('  - kmalloc: { size: 4K }\n  - kmalloc: { size: 4K }\n'), FILE);
  const anchors = loadScenario(steps('  - kmalloc: &s { size: 4K }\n  - kmalloc: *s\n'), FILE);
  assert.deepEqual(anchors.steps.map(s => s.args), plain.steps.map(s => s.args));
  const block = loadScenario(`description: |\n  two\n  lines\n${P}`, FILE);
  assert.equal(block.description, 'two\nlines\n');
  const crlf = loadScenario(steps('  - kmalloc: { size: 4K }\n  - kmalloc: { sze: 4K }\n').replace(/\n/g, '\r\n').replace('sze', 'size'), FILE);
  assert.deepEqual(crlf.steps[1].argPos, { size: { file: FILE, line: 4, col: 16 } });
  assertError(steps('  - kmalloc: { size: 4K }\n').replace(/\n/g, '\r\n') + '  - kmalloc: { sze: 4K }\r\n', '4:16', "unknown argument 'sze'");
});

test('a large file outside the fast YAML subset is refused with a position, not handed to a slow parser', () => {
  const big = steps('  - kmalloc: { size: 4K }\n'.repeat(90_000)) + '  - kmalloc: &x { size: 4K }\n';
  assertError(big, '90003:14', 'anchor (&) (a file over 128 KiB is read by the fast parser only');
});

test('ops registered after the loader was imported are found (driver models register late)', async () => {
  const { registerOpSchema } = await import('../../simulator/scenario/opspec');
  assertError(steps('  - loadertest.gem_new: { size: 4K }\n'), '3:5', "unknown op 'loadertest.gem_new'");
  registerOpSchema({ name: 'loadertest.gem_new', doc: 'test op', args: { object: { size: { type: 'u64', required: true } } } });
  const s = loadScenario(steps('  - loadertest.gem_new: { size: 4K }\n'), FILE);
  assert.deepEqual(s.steps[0].args, { size: 4096 });
});
