// Shared by the extension-host suites: the activated extension's API, workspace files, waiting for changes.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { IommuLensApi } from '../../extension/parts';
import type { SessionChange } from '../../extension/sessionStore';

export const EXTENSION_ID = 'iommu-lens.iommu-lens';

export async function api(): Promise<IommuLensApi> {
  const ext = vscode.extensions.getExtension<IommuLensApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  return ext.activate();
}

export function workspaceUri(...parts: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open');
  return vscode.Uri.joinPath(folder.uri, ...parts);
}

export async function readText(uri: vscode.Uri): Promise<string> {
  return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
}

/** Resolves with the first store change for which PRED holds (checked on each change), or rejects after MS. */
export async function nextChange(a: IommuLensApi, pred: (c: SessionChange) => boolean = () => true, ms = 15000): Promise<SessionChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`no matching session change within ${ms} ms`)); }, ms);
    const sub = a.store.onDidChange(c => {
      if (!pred(c)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(c);
    });
  });
}

/** Polls COND every 50 ms until it returns a truthy value. */
export async function until<T>(what: string, cond: () => T | undefined | false, ms = 10000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

export async function closeEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
