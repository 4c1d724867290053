// The simulator side of the extension, bundled on its own into dist/engine.js: the simulator, the `yaml` parser,
// tree-sitter and the builders of the tree nodes. Nothing here runs at activation; ./engineLoader.ts requires it
// the first time a scenario, a preset, a trace, a C document or a report needs it. No vscode import: the glue in
// dist/extension.js owns every VS Code object, the engine only computes.
export { openSession, isScenarioError } from './simulatorApi';
export { builtinScenarios } from '../simulator/builtin';
export { getPreset, presetNames } from '../simulator/platform/registry';
export { parse as parseYaml } from 'yaml';
export { importTrace } from '../simulator/trace/import';
export { CAnalyzer } from '../simulator/analysis/analyzer';
export { bindOutcomes } from '../simulator/analysis/bind';
export { initParser } from '../simulator/analysis/parser';
export { buildFindingsTree, buildIommuTree, findingsNodeForTouched, iommuNodeForTouched } from './tree/model';
