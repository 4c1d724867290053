// The extension ships as two bundles: dist/extension.js, the glue activation loads, and dist/engine.js (simulator,
// yaml, tree-sitter), required on first use through extension/engineLoader.ts. These tests keep the simulator out
// of the glue, the engine free of vscode, the package shipping both, and activation off events that fire for
// files that are not scenarios.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(__dirname, '../..');

interface BundleOptions extends esbuild.BuildOptions { entryPoints: Record<string, string> }

async function options(name: string): Promise<BundleOptions> {
  const mod = await import(path.join(ROOT, 'esbuild.mjs')) as { bundleOptions(o: { production: boolean }): BundleOptions[] };
  const found = mod.bundleOptions({ production: true }).find(b => Object.keys(b.entryPoints)[0] === name);
  assert.ok(found, `esbuild.mjs builds no ${name} bundle`);
  return found;
}

async function metafile(name: string): Promise<{ inputs: string[]; imports: esbuild.Metafile['outputs'][string]['imports'] }> {
  const r = await esbuild.build({ ...(await options(name)), write: false, metafile: true, logLevel: 'silent' });
  const out = Object.values(r.metafile!.outputs).find(o => o.entryPoint);
  assert.ok(out, `no output for ${name}`);
  return { inputs: Object.keys(out.inputs), imports: out.imports };
}

test('the glue bundle holds no simulator, yaml or tree-sitter: only vscode, a lazy engine and a lazy node:crypto', async () => {
  const glue = await metafile('extension');
  const npm = glue.inputs.filter(f => f.startsWith('node_modules/'));
  assert.deepEqual(npm, [], 'npm packages in dist/extension.js');
  // simulator/core/format.ts (hex, sizeLabel) is the one pure helper the views share with the engine
  const simulator = glue.inputs.filter(f => f.startsWith('simulator/') && f !== 'simulator/core/format.ts');
  assert.deepEqual(simulator, [], 'simulator modules in dist/extension.js');
  assert.ok(!glue.inputs.includes('extension/engine.ts'), 'extension/engine.ts was bundled into the glue');
  const external = [...new Set(glue.imports.map(i => i.path))].sort();
  assert.deepEqual(external, ['./engine.js', 'node:crypto', 'vscode']);
  for (const i of glue.imports) assert.equal(i.external, true, `${i.path} is not external`);
});

test('the glue requires vscode once, and node:crypto and the engine only inside functions', async () => {
  const r = await esbuild.build({ ...(await options('extension')), write: false, logLevel: 'silent' });
  const text = r.outputFiles![0].text;
  assert.equal(text.match(/require\("vscode"\)/g)?.length, 1, 'one shared vscode namespace');
  // lazily: `x ??= require(...)` inside a function body, never a top-level `var x = require(...)`
  for (const lazy of ['node:crypto', './engine.js']) {
    const uses = [...text.matchAll(new RegExp(`(.{0,40})require\\("${lazy.replace(/[./]/g, '\\$&')}"\\)`, 'g'))].map(m => m[1]);
    assert.equal(uses.length, 1, `${lazy} required ${uses.length} times`);
    assert.match(uses[0], /\?\?=$/, `${lazy} is not required lazily: …${uses[0]}require("${lazy}")`);
  }
});

test('the engine bundle has the simulator and no vscode', async () => {
  const engine = await metafile('engine');
  assert.ok(engine.inputs.includes('extension/engine.ts'));
  assert.ok(engine.inputs.some(f => f.startsWith('simulator/scenario/')));
  assert.ok(!engine.imports.some(i => i.path === 'vscode'), 'dist/engine.js imports vscode');
  assert.ok(!engine.inputs.some(f => /^extension\/(extension|errors|runner|sessionStore)\.ts$/.test(f)), 'glue modules in the engine');
});

test('engineLoader loads the engine once, on first use; before that nothing is a ScenarioError', async () => {
  const loader = await import('../../extension/engineLoader');
  assert.equal(loader.loadedEngine(), undefined, 'importing the loader loaded the engine');
  assert.equal(loader.isScenarioError(new Error('x')), false);
  assert.equal(loader.loadedEngine(), undefined, 'isScenarioError loaded the engine');
  const engine = loader.loadEngine();
  assert.equal(loader.loadEngine(), engine);
  let thrown: unknown;
  try {
    engine.openSession('steps: [', 'bad.iommu.yaml');
  } catch (e) {
    thrown = e;
  }
  assert.ok(loader.isScenarioError(thrown), `not a ScenarioError: ${String(thrown)}`);
  assert.equal(loader.isScenarioError(new Error('bad.iommu.yaml:1:1: x')), false);
  for (const f of ['openSession', 'builtinScenarios', 'getPreset', 'presetNames', 'parseYaml', 'importTrace', 'CAnalyzer',
    'bindOutcomes', 'initParser', 'buildIommuTree', 'buildFindingsTree', 'iommuNodeForTouched', 'findingsNodeForTouched'] as const) {
    assert.equal(typeof engine[f], 'function', `engine.${f}`);
  }
});

test('the package ships the engine; activation waits for a view, a command, a scenario, a C file', () => {
  const ignore = fs.readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8').split('\n').map(l => l.trim());
  assert.ok(ignore.includes('!dist/extension.js') && ignore.includes('!dist/engine.js'), '.vscodeignore leaves a bundle out');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string; activationEvents: string[] };
  assert.equal(pkg.main, './dist/extension.js');
  const events = pkg.activationEvents;
  // '*' and onStartupFinished run on every window; JSON documents open at startup (settings), so onLanguage:json did too
  for (const never of ['*', 'onStartupFinished', 'onLanguage:json', 'onLanguage:jsonc']) assert.ok(!events.includes(never), never);
  for (const want of ['onView:iommuLens.iommus', 'onCommand:iommuLens.openScenario', 'workspaceContains:**/*.iommu.{yaml,yml,json}',
    'onLanguage:yaml', 'onLanguage:c', 'onWebviewPanel:iommuLens.addressMap']) {
    assert.ok(events.includes(want), `no ${want}`);
  }
});
