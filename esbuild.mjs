// Builds the bundles: the CLI and the extension for Node (vscode external), the webview for the browser.
// The extension is two bundles: dist/extension.js, the glue activation loads (views, commands, providers, status
// bar), and dist/engine.js (simulator, yaml, tree-sitter), which extension/engineLoader.ts requires on first use.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(fileURLToPath(import.meta.url));

/** Keeps engineLoader's `require('./engine.js')` a runtime require of dist/engine.js instead of bundling it. */
const engineStaysExternal = {
  name: 'engine-stays-external',
  setup(build) {
    build.onResolve({ filter: /^\.\/engine\.js$/ }, args =>
      path.resolve(args.resolveDir, args.path) === path.join(ROOT, 'extension', 'engine.js') ? { path: './engine.js', external: true } : undefined);
  },
};

/**
 * Every `import * as vscode from 'vscode'` of the glue shares one namespace object. Left alone, esbuild wraps the
 * external module once per importing file (`__toESM(require("vscode"))`, two dozen copies of the API's ~250
 * properties at load: several ms of activation); here they all import a one-line ESM module that re-exports it.
 */
const oneVscodeNamespace = {
  name: 'one-vscode-namespace',
  setup(build) {
    build.onResolve({ filter: /^vscode$/ }, args =>
      args.namespace === 'vscode-namespace' ? { path: 'vscode', external: true } : { path: 'vscode', namespace: 'vscode-namespace' });
    build.onLoad({ filter: /^vscode$/, namespace: 'vscode-namespace' }, () => ({ contents: "export * from 'vscode';", loader: 'js' }));
  },
};

/** esbuild options of every bundle (exported for test/unit/bundles.test.ts, which checks what goes where). */
export function bundleOptions({ production = false } = {}) {
  const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', target: 'es2022', absWorkingDir: ROOT };
  const exists = f => fs.existsSync(path.join(ROOT, f));
  const builds = [
    { ...common, entryPoints: { cli: 'simulator/cli.ts' }, outdir: 'dist', platform: 'node', format: 'cjs',
      banner: { js: '#!/usr/bin/env node' } },
  ];
  if (exists('extension/extension.ts')) {
    builds.push({ ...common, entryPoints: { extension: 'extension/extension.ts' }, outdir: 'dist', platform: 'node',
      format: 'cjs', external: ['vscode'], plugins: [engineStaysExternal, oneVscodeNamespace] });
    // no vscode here: the engine only computes (a vscode import fails this build)
    builds.push({ ...common, entryPoints: { engine: 'extension/engine.ts' }, outdir: 'dist', platform: 'node', format: 'cjs' });
  }
  if (exists('test/extension-host/index.ts')) {
    builds.push({ ...common, entryPoints: { 'test/index': 'test/extension-host/index.ts' }, outdir: 'dist',
      platform: 'node', format: 'cjs', external: ['vscode', 'mocha'] });
  }
  if (exists('webview/main.ts')) {
    builds.push({ ...common, entryPoints: { webview: 'webview/main.ts' }, outdir: 'dist', platform: 'browser',
      format: 'iife' });
  }
  return builds;
}

async function main() {
  const watch = process.argv.includes('--watch');
  const builds = bundleOptions({ production: process.argv.includes('--production') });
  if (watch) {
    for (const b of builds) await (await esbuild.context(b)).watch();
    return;
  }
  process.chdir(ROOT);
  await Promise.all(builds.map(b => esbuild.build(b)));
  fs.chmodSync('dist/cli.js', 0o755);
  // The C grammar and tree-sitter runtime ship as wasm inside npm packages; copy them beside the bundles.
  for (const [from, to] of [['node_modules/tree-sitter-c/tree-sitter-c.wasm', 'dist/tree-sitter-c.wasm'],
                            ['node_modules/web-tree-sitter/tree-sitter.wasm', 'dist/tree-sitter.wasm']]) {
    if (fs.existsSync(from)) fs.copyFileSync(from, to);
  }
  // The JSON schema for *.iommu.json / *.iommu.yaml comes from the same op schemas the loader uses.
  if (fs.existsSync('scripts/gen-schema.mjs')) {
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, ['scripts/gen-schema.mjs'], { stdio: 'inherit' });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
