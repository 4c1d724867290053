// The pieces activate() builds, handed to the command modules; also the extension's exported API (tests use it).
import type * as vscode from 'vscode';
import type { ErrorReporter } from './errors';
import type { ScenarioRunner } from './runner';
import type { ScenarioDiagnostics } from './scenario/diagnostics';
import type { VirtualScenarios } from './scenario/documents';
import type { ScenarioSessionStore } from './sessionStore';
import type { RunStatusBar } from './statusBar';
import type { ModelTreeProvider } from './tree/provider';

export interface ExtensionParts {
  context: vscode.ExtensionContext;
  store: ScenarioSessionStore;
  runner: ScenarioRunner;
  errors: ErrorReporter;
  diagnostics: ScenarioDiagnostics;
  virtual: VirtualScenarios;
  iommuTree: ModelTreeProvider;
  findingsTree: ModelTreeProvider;
  statusBar: RunStatusBar;
  output: vscode.OutputChannel;
}

/** What `activate` returns. */
export type IommuLensApi = Pick<ExtensionParts, 'store' | 'runner' | 'iommuTree' | 'findingsTree' | 'statusBar' | 'diagnostics'>;
