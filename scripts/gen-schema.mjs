// Writes dist/scenario.schema.json (contributes.jsonValidation / yamlValidation) from the op, model and
// preset schemas the simulator registers, so the schema never drifts from the loader. Run after `npm run build`
// or from esbuild.mjs: `node scripts/gen-schema.mjs [OUT]`.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = path.resolve(root, process.argv[2] ?? 'dist/scenario.schema.json');
// The session module imports every model, driver model and preset, which registers their schemas.
const entry = `
import '../simulator/session';
import { scenarioJsonSchema } from '../extension/scenario/jsonSchema';
module.exports = scenarioJsonSchema();
`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-lens-schema-'));
try {
  const bundle = path.join(tmp, 'schema.cjs');
  await esbuild.build({
    stdin: { contents: entry, resolveDir: path.join(root, 'scripts'), loader: 'ts', sourcefile: 'gen-schema-entry.ts' },
    bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'warning', target: 'es2022',
  });
  const schema = createRequire(import.meta.url)(bundle);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const partial = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(partial, JSON.stringify(schema, null, 2) + '\n');
  fs.renameSync(partial, out);
  const ops = Object.keys(schema.properties.steps.items.properties).length - 3;
  console.log(`gen-schema: ${path.relative(root, out)} (${ops} ops)`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
