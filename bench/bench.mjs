// Entry of `npm run bench`: bundles the orchestrator (bench/run.ts) with esbuild into
// node_modules/.cache/iommu-lens-bench and runs it; the orchestrator bundles each measurement module the same
// way before running it in a child process. See bench/README.md.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = path.join(root, 'node_modules', '.cache', 'iommu-lens-bench');
const outfile = path.join(buildDir, 'run.js');
try {
  await esbuild.build({
    entryPoints: [path.join(root, 'bench', 'run.ts')], outfile, bundle: true, platform: 'node', format: 'cjs',
    target: 'es2022', packages: 'external', logLevel: 'silent',
  });
} catch (e) {
  const first = e.errors?.[0];
  console.error(`bench: the harness does not build: ${first ? `${first.location?.file}:${first.location?.line}: ${first.text}` : e.message}`);
  process.exit(70);
}
const { main } = createRequire(import.meta.url)(outfile);
process.exitCode = await main(process.argv.slice(2), { root, buildDir });
