// The extension's only door into the simulator's loading API: one place that knows how settings reach
// `loadSession`, so the rest of the extension does not depend on its option names.
import { loadSession, Session } from '../simulator/session';
import { ScenarioError } from '../simulator/scenario/types';
import type { KernelOverrides } from './settingsModel';

export { ScenarioError };
export type { Session };

/** Parses and validates TEXT (reported as FILE in errors); throws ScenarioError on bad input. */
export function openSession(text: string, file: string, overrides: KernelOverrides = {}): Session {
  return loadSession(text, file, { kernel: overrides });
}

export function isScenarioError(e: unknown): e is ScenarioError {
  return e instanceof ScenarioError;
}
