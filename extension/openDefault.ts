// `npm start` opens VS Code with IOMMU_LENS_OPEN_DEFAULT=1 in the extension host's environment: the extension
// then opens default.iommu.yaml (the workspace's, else the built-in one), runs it, and shows the IOMMU Lens view,
// so a new user sees the product working without a click.
import * as vscode from 'vscode';
import { loadEngine } from './engineLoader';
import type { ExtensionParts } from './parts';

export const OPEN_DEFAULT_ENV = 'IOMMU_LENS_OPEN_DEFAULT';
const DEFAULT_FILE = 'default.iommu.yaml';

/** True when the environment asks for the default scenario on start ("1" or "true"). */
export function wantsDefaultOnStart(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true)$/i.test(env[OPEN_DEFAULT_ENV]?.trim() ?? '');
}

/** The workspace's default.iommu.yaml (at the top of a folder), else the built-in default as a read-only document. */
async function defaultScenarioUri(p: ExtensionParts): Promise<vscode.Uri | undefined> {
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const uri = vscode.Uri.joinPath(folder.uri, DEFAULT_FILE);
    try {
      await vscode.workspace.fs.stat(uri);
      return uri;
    } catch {
      // not in this folder
    }
  }
  const builtin = loadEngine().builtinScenarios().find(b => b.name === 'default');
  return builtin ? p.virtual.put('builtin', builtin.name, builtin.text) : undefined;
}

/** Opens and runs the default scenario and focuses the IOMMUs view; failures go to the error reporter. */
export async function openDefaultScenario(p: ExtensionParts): Promise<boolean> {
  try {
    const uri = await defaultScenarioUri(p);
    if (!uri) {
      p.output.appendLine(`${OPEN_DEFAULT_ENV}: no ${DEFAULT_FILE} in the workspace and no built-in default scenario`);
      return false;
    }
    await vscode.window.showTextDocument(uri, { preview: false });
    const ran = await vscode.commands.executeCommand<boolean>('iommuLens.runScenario', uri);
    await vscode.commands.executeCommand('iommuLens.iommus.focus');
    return ran === true;
  } catch (e) {
    p.errors.show(e, { action: `opening ${DEFAULT_FILE} on start` });
    return false;
  }
}
