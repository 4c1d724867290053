// The extension's vscode-free helpers: source sites, settings -> kernel overrides, the preset quick-look
// scenario, and the JSON schema generated from the op schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadSession } from '../../simulator/session';
import { getPreset, presetNames } from '../../simulator/platform/registry';
import { allOpNames } from '../../simulator/scenario/opspec';
import { findFunctionLine, parseSite, rankSiteFiles } from '../../extension/sourceNav';
import { kernelOverrides, maxStepsOf, SettingsValues } from '../../extension/settingsModel';
import { presetScenarioText } from '../../extension/presetScenario';
import { scenarioJsonSchema } from '../../extension/scenario/jsonSchema';

const ROOT = path.resolve(__dirname, '../..');

test('parseSite: FILE.c:FUNCTION, paths, lines, headers; anything else is not a site', () => {
  assert.deepEqual(parseSite('apu_gem.c:apu_bo_iommu_map'), { file: 'apu_gem.c', base: 'apu_gem.c', func: 'apu_bo_iommu_map' });
  assert.deepEqual(parseSite('drivers/iommu/dma-iommu.c:iommu_dma_map_sg'),
    { file: 'drivers/iommu/dma-iommu.c', base: 'dma-iommu.c', func: 'iommu_dma_map_sg' });
  assert.deepEqual(parseSite('pl330.c:120'), { file: 'pl330.c', base: 'pl330.c', line: 120 });
  assert.deepEqual(parseSite('iova.h:iova_align:42'), { file: 'iova.h', base: 'iova.h', func: 'iova_align', line: 42 });
  for (const bad of ['pl330.c', 'pl330.cc:foo', 'pl330.c:', 'pl330.c:0', 'pl 330.c:foo', 'pl330.c:foo bar']) {
    assert.equal(parseSite(bad), undefined, bad);
  }
});

test('findFunctionLine: the definition at column 0, not a prototype, a call or a macro', () => {
  const c = [
    '#define demo_map(x) do_map(x)',          // 0: macro mentioning the name
    'static int demo_map(int a);',            // 1: prototype
    'static int caller(void)',                // 2
    '{',
    '\treturn demo_map(1);',                   // 4: call
    '}',
    'static int',                             // 6
    'demo_map(int a,',                        // 7: definition, GNU style, arguments on two lines
    '\t int b)',
    '{',
    '\treturn a;',
    '}',
  ].join('\n');
  assert.equal(findFunctionLine(c, 'demo_map'), 7);
  assert.equal(findFunctionLine('int f(void) { return 0; }\n', 'f'), 0);
  assert.equal(findFunctionLine('\tx = only_called(1);\n', 'only_called'), 0, 'falls back to the first mention');
  assert.equal(findFunctionLine('int other(void);\n', 'missing'), undefined);
  assert.equal(findFunctionLine('int demo_mapping(void) {}\n', 'demo_map'), undefined, 'whole names only');
});

test('rankSiteFiles: files matching the whole site path first, then shorter paths', () => {
  const site = parseSite('drm/apu/apu_gem.c:f')!;
  assert.deepEqual(rankSiteFiles(['old/apu_gem.c', 'x/drm/apu/apu_gem.c', 'apu_gem.c'], site), ['x/drm/apu/apu_gem.c', 'apu_gem.c', 'old/apu_gem.c']);
});

const settings = (o: Partial<SettingsValues> = {}): SettingsValues => ({
  defaultPreset: 'generic-4k', cpuPageSize: 'scenario', dmaStrict: 'scenario', largeIommuPages: 'scenario',
  annotationsEnabled: true, maxSteps: 100000, ...o,
});

test('kernelOverrides: "scenario" keeps the file, other values override; bad values name the setting', () => {
  assert.deepEqual(kernelOverrides(settings()), {});
  assert.deepEqual(kernelOverrides(settings({ cpuPageSize: '16K', dmaStrict: 'lazy', largeIommuPages: 'applied' })),
    { page_size: 16384, dma_strict: false, large_iommu_pages: true });
  assert.deepEqual(kernelOverrides(settings({ dmaStrict: 'strict', largeIommuPages: 'mainline' })), { dma_strict: true, large_iommu_pages: false });
  assert.throws(() => kernelOverrides(settings({ cpuPageSize: '8K' })), /iommuLens\.cpuPageSize: "8K"/);
  assert.throws(() => kernelOverrides(settings({ dmaStrict: 'yes' })), /iommuLens\.dmaStrict: "yes"/);
  assert.throws(() => kernelOverrides(settings({ largeIommuPages: 'on' })), /iommuLens\.largeIommuPages: "on"/);
  assert.equal(maxStepsOf(settings({ maxSteps: 5 })), 5);
  for (const bad of [0, -1, 1.5, NaN]) assert.throws(() => maxStepsOf(settings({ maxSteps: bad })), /iommuLens\.maxSteps/);
});

test('the overrides reach the simulated kernel', () => {
  const text = fs.readFileSync(path.join(ROOT, 'examples/default.iommu.yaml'), 'utf8');
  const s = loadSession(text, 'default.iommu.yaml', { kernel: kernelOverrides(settings({ cpuPageSize: '64K', dmaStrict: 'lazy' })) });
  assert.equal(s.snapshot().kernel.page_size, 65536);
  assert.equal(s.snapshot().kernel.dma_strict, false);
});

test('presetScenarioText: loads and runs on every preset; the read after unmap faults (strict) or hits the IOTLB (lazy)', async () => {
  assert.ok(presetNames().length >= 2);
  for (const name of presetNames()) {
    const platform = parseYaml(getPreset(name)!.yaml) as { devices: Array<{ name: string; iommu?: string }> };
    const devices = platform.devices.map(d => ({ name: d.name, iommu: d.iommu ?? null }));
    const text = presetScenarioText(name, devices, 4096);
    for (const dma_strict of [true, false]) {
      const s = loadSession(text, `preset-${name}.iommu.yaml`, { kernel: { dma_strict } });
      await s.runToEnd();
      const r = s.snapshot();
      assert.equal(r.steps.length, s.total, `${name}: ran every step`);
      assert.deepEqual(r.devices.map(d => d.name).sort(), devices.map(d => d.name).sort());
      const mapped = devices.find(d => d.iommu);
      if (!mapped || r.steps.some(st => st.op === 'dma_map_single' && typeof st.result === 'string' && st.result.startsWith('-'))) continue;
      const last = r.steps[r.steps.length - 1];
      if (dma_strict) assert.ok(r.faults.some(f => f.step === last.index), `${name}: the read after unmap faults in strict mode`);
    }
  }
});

test('presetScenarioText: names with YAML specials are quoted', () => {
  const text = presetScenarioText('generic-4k', [{ name: '0000:01:00.0', iommu: 'iommu0' }], 16384);
  assert.match(text, /- probe: "0000:01:00.0"/);
  assert.match(text, /kmalloc: \{ size: 16K \}/);
  assert.ok(loadSession(text, 'p.iommu.yaml').total > 0);
});

test('scenarioJsonSchema: every registered op, preset and the loader\'s keys; the examples use only what it allows', () => {
  const schema = scenarioJsonSchema() as any;
  const step = schema.properties.steps.items;
  assert.deepEqual(Object.keys(step.properties).filter(k => !['as', 'site', 'expect'].includes(k)).sort(), allOpNames());
  assert.equal(step.oneOf.length, allOpNames().length);
  assert.deepEqual(schema.properties.platform.anyOf[0].enum, presetNames());
  assert.deepEqual(step.properties.iommu_map.required, ['domain', 'iova', 'paddr', 'size']);
  assert.deepEqual(step.properties.probe.description, 'probe a device: join or create its IOMMU group and attach the default domain');
  const u64 = new RegExp(step.properties.iommu_map.properties.size.anyOf[1].pattern);
  for (const ok of ['4K', '0x4000', '$buf.size', '$buf.dma + 0x1000', '16384']) assert.ok(u64.test(ok), ok);
  for (const bad of ['4 K', 'x10', '']) assert.ok(!u64.test(bad), bad);
  const site = new RegExp(step.properties.site.pattern);
  assert.ok(site.test('pl330_drv.c:pl330_map_ring') && site.test('iova.h:iova_align:42') && !site.test('pl330_drv.c'));
  const examples = fs.readdirSync(path.join(ROOT, 'examples')).filter(f => /\.iommu\.ya?ml$/.test(f));
  assert.ok(examples.length > 0);
  for (const f of examples) {
    const doc = parseYaml(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8')) as Record<string, any>;
    for (const k of Object.keys(doc)) assert.ok(k in schema.properties, `${f}: top-level key ${k} not in the schema`);
    for (const k of Object.keys(doc.kernel ?? {})) assert.ok(k in schema.properties.kernel.properties, `${f}: kernel key ${k}`);
    for (const s of doc.steps ?? []) {
      for (const k of Object.keys(s)) assert.ok(k in step.properties, `${f}: step key ${k} not in the schema`);
      const op = Object.keys(s).find(k => !['as', 'site', 'expect'].includes(k))!;
      const args = step.properties[op];
      if (args.type === 'object' && s[op] && typeof s[op] === 'object') {
        for (const a of Object.keys(s[op])) assert.ok(a in args.properties, `${f}: ${op} argument ${a} not in the schema`);
      }
      if (s.site) assert.ok(site.test(s.site), `${f}: site ${s.site}`);
    }
  }
});
