// Bundles one bench module (bench/measures/MODULE.ts and the simulator code it imports) with esbuild, the
// way the product's own bundles are built (esbuild.mjs: CommonJS for node, es2022), so the figures are those
// of shipped code, not of a TypeScript loader. A module that does not build skips its measurements.
import path from 'node:path';
import * as esbuild from 'esbuild';

export type Built = { bundle: string } | { error: string };

export async function buildModule(root: string, buildDir: string, module: string): Promise<Built> {
  const entry = path.join(root, 'bench', 'measures', `${module}.ts`);
  const outfile = path.join(buildDir, 'measures', `${module}.js`);
  try {
    await esbuild.build({
      entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'es2022',
      sourcemap: true, logLevel: 'silent', external: ['vscode', 'esbuild', 'playwright-core'],
    });
    return { bundle: outfile };
  } catch (e) {
    const errs = (e as esbuild.BuildFailure).errors ?? [];
    const first = errs[0];
    if (!first) return { error: `bench/measures/${module}.ts does not build: ${(e as Error).message.split('\n')[0]}` };
    const at = first.location ? `${path.relative(root, path.resolve(root, first.location.file))}:${first.location.line}:${first.location.column + 1}: ` : '';
    return { error: `does not build yet: ${at}${first.text}${errs.length > 1 ? ` (and ${errs.length - 1} more)` : ''}` };
  }
}

/** Bundles the webview (webview/main.ts and its CSS) into DIR for the map harness, as esbuild.mjs does. */
export async function buildWebview(root: string, dir: string): Promise<Built> {
  try {
    await esbuild.build({
      entryPoints: { webview: path.join(root, 'webview', 'main.ts') }, outdir: dir, bundle: true, platform: 'browser',
      format: 'iife', target: 'es2022', minify: false, sourcemap: false, logLevel: 'silent',
    });
    return { bundle: path.join(dir, 'webview.js') };
  } catch (e) {
    const first = (e as esbuild.BuildFailure).errors?.[0];
    return { error: `the webview does not build: ${first ? `${first.location?.file ?? ''}:${first.location?.line ?? ''}: ${first.text}` : (e as Error).message}` };
  }
}
