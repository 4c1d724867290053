// Internal errors (a bug in the simulator or the extension, never bad input) become one notification naming
// the step, with "Copy report" putting a bug report on the clipboard; the extension keeps working.
import * as vscode from 'vscode';
import { isScenarioError } from './engineLoader';
import { UserError } from './userError';

export { UserError };

export interface ErrorContext {
  /** index of the step that was running, if any */
  step?: number;
  op?: string;
  scenario?: string;
  /** scenario text, included in the copied report */
  text?: string;
  action?: string;
}

export class ErrorReporter {
  constructor(private readonly output: vscode.OutputChannel, private readonly version: string) {}

  /**
   * Bad input: the loader's FILE:LINE:COL message. Anything else: an internal error. Never waits for the user:
   * a command must finish even while its notification is still showing.
   */
  show(e: unknown, ctx: ErrorContext = {}): void {
    if (isScenarioError(e)) {
      this.output.appendLine(`# ${e.format()}`);
      void vscode.window.showErrorMessage(e.format(), 'Show Problems').then(pick => {
        if (pick) void vscode.commands.executeCommand('workbench.actions.view.problems');
      });
      return;
    }
    if (e instanceof UserError) {
      this.output.appendLine(`# ${e.message}`);
      void vscode.window.showErrorMessage(`IOMMU Lens: ${e.message}`);
      return;
    }
    this.internal(e, ctx);
  }

  internal(e: unknown, ctx: ErrorContext): void {
    const err = e instanceof Error ? e : new Error(String(e));
    const where = ctx.step !== undefined ? ` at step ${ctx.step}${ctx.op ? ` (${ctx.op})` : ''}` : ctx.action ? ` in ${ctx.action}` : '';
    this.output.appendLine(`# internal error${where}: ${err.message}`);
    if (err.stack) this.output.appendLine(err.stack.split('\n').map(l => '#   ' + l).join('\n'));
    void vscode.window.showErrorMessage(
      `IOMMU Lens: internal error${where}: ${err.message}. The extension keeps working; please report this.`, 'Copy report',
    ).then(async pick => {
      if (pick !== 'Copy report') return;
      await vscode.env.clipboard.writeText(bugReport(err, ctx, this.version));
      void vscode.window.showInformationMessage('IOMMU Lens: bug report copied to the clipboard.');
    });
  }

  /** Wraps a command handler so no error escapes as an unhandled rejection. */
  guard<A extends unknown[], R>(action: string, fn: (...args: A) => R | Promise<R>): (...args: A) => Promise<R | undefined> {
    return async (...args: A) => {
      try {
        return await fn(...args);
      } catch (e) {
        this.show(e, { action });
        return undefined;
      }
    };
  }
}

export function bugReport(err: Error, ctx: ErrorContext, version: string): string {
  return [
    `IOMMU Lens ${version} internal error`,
    `VS Code ${vscode.version}, ${process.platform}, Node ${process.version}`,
    ctx.scenario ? `scenario: ${ctx.scenario}` : undefined,
    ctx.step !== undefined ? `step: ${ctx.step}${ctx.op ? ` (${ctx.op})` : ''}` : undefined,
    ctx.action ? `action: ${ctx.action}` : undefined,
    '', '```', err.stack ?? err.message, '```',
    ...(ctx.text ? ['', 'scenario text:', '```yaml', ctx.text, '```'] : []),
  ].filter(l => l !== undefined).join('\n');
}
