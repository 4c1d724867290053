// Builds the three bundles: the CLI and the extension for Node (vscode external), the webview for the browser.
import * as esbuild from 'esbuild';
import fs from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', target: 'es2022' };

const builds = [
  { ...common, entryPoints: { cli: 'simulator/cli.ts' }, outdir: 'dist', platform: 'node', format: 'cjs',
    banner: { js: '#!/usr/bin/env node' } },
];
if (fs.existsSync('extension/extension.ts')) {
  builds.push({ ...common, entryPoints: { extension: 'extension/extension.ts' }, outdir: 'dist', platform: 'node',
    format: 'cjs', external: ['vscode'] });
}
if (fs.existsSync('test/extension-host/index.ts')) {
  builds.push({ ...common, entryPoints: { 'test/index': 'test/extension-host/index.ts' }, outdir: 'dist',
    platform: 'node', format: 'cjs', external: ['vscode', 'mocha'] });
}
if (fs.existsSync('webview/main.ts')) {
  builds.push({ ...common, entryPoints: { webview: 'webview/main.ts' }, outdir: 'dist', platform: 'browser',
    format: 'iife' });
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
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
