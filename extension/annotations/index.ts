// Driver source annotations: what the simulated kernel did at each IOMMU/DMA call of the C file in the editor
// (inline text, hover, CodeLens per function, Problems entries) and the review findings with their quick fixes.
// All of it follows the setting iommuLens.annotations.enabled.
import * as vscode from 'vscode';
import type { ErrorReporter } from '../errors';
import type { SessionStore } from '../sessionStore';
import { registerFunctionLenses } from './codeLens';
import { AnnotationController } from './controller';
import { registerInlineOutcomes } from './decorations';
import { registerSourceDiagnostics } from './diagnostics';
import { registerOutcomeHover } from './hover';
import { registerSourceFixes } from './quickFixes';

export { AnnotationController, type AnnotationState } from './controller';

export function registerAnnotations(context: vscode.ExtensionContext, store: SessionStore, errors?: ErrorReporter): AnnotationController {
  // the tree-sitter runtime and C grammar are copied beside dist/extension.js by the build
  const controller = new AnnotationController(vscode.Uri.joinPath(context.extensionUri, 'dist').fsPath, store, errors);
  context.subscriptions.push(controller);
  registerInlineOutcomes(context, controller);
  registerOutcomeHover(context, controller);
  registerFunctionLenses(context, controller, store);
  registerSourceDiagnostics(context, controller);
  registerSourceFixes(context, controller);
  return controller;
}
