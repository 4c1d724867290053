// Built-in scenarios: the example files shipped with the product (examples/ beside dist/ or simulator/).
import fs from 'node:fs';
import path from 'node:path';

export interface BuiltinScenario { name: string; file: string; text: string }

export function examplesDir(): string {
  const candidates = [path.resolve(__dirname, '../examples'), path.resolve(__dirname, '../../examples')];
  return candidates.find(d => fs.existsSync(path.join(d, 'default.iommu.yaml'))) ?? candidates[0];
}

/** `default` is the scenario `npm start` and a fresh extension open. */
export function builtinScenarios(dir = examplesDir()): BuiltinScenario[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter(f => /\.iommu\.(ya?ml|json)$/.test(f)).sort().map(f => ({
    name: f.replace(/\.iommu\.(ya?ml|json)$/, ''),
    file: path.join(dir, f),
    text: fs.readFileSync(path.join(dir, f), 'utf8'),
  }));
}
