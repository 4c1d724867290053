// Activation loads only the glue (dist/extension.js: views, commands, providers, status bar). Everything that
// needs the simulator goes through loadEngine(), which requires the second bundle, dist/engine.js, on first use:
// the first scenario loaded or parsed (a command, a scenario file opened), a preset, a trace import, the first C
// document analysed, the first tree built from a report.
import type * as EngineModule from './engine';
import type { ScenarioError } from './simulatorApi';

export type Engine = typeof EngineModule;

let engine: Engine | undefined;

/** The engine, required now if this is its first use (synchronous, once per extension host). */
export function loadEngine(): Engine {
  // a runtime require on purpose: esbuild.mjs keeps './engine.js' external, so in dist/extension.js it is
  // dist/engine.js beside it; under tsx it resolves to extension/engine.ts
  engine ??= require('./engine.js') as Engine;
  return engine;
}

/** The engine when something already loaded it; never loads it (a check such as "is this a ScenarioError?"). */
export function loadedEngine(): Engine | undefined {
  return engine;
}

/** True for the loader's FILE:LINE:COL errors. Without the engine nothing can have thrown one. */
export function isScenarioError(e: unknown): e is ScenarioError {
  return loadedEngine()?.isScenarioError(e) ?? false;
}
