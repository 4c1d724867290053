// Commands that load and run scenarios: Open Scenario…, Run Scenario, Step, Run to End, Reset, Run to here,
// Choose Platform Preset.
import * as vscode from 'vscode';
import { loadEngine } from '../engineLoader';
import { UserError } from '../errors';
import type { ExtensionParts } from '../parts';
import { PresetDevice, presetScenarioText } from '../presetScenario';
import { isScenarioUri, SCENARIO_GLOB } from '../scenario/documents';
import { currentOverrides, readSettings } from '../settings';
import { PAGE_SIZES } from '../settingsModel';

export function registerScenarioCommands(p: ExtensionParts): vscode.Disposable[] {
  const cmd = (id: string, fn: (...args: any[]) => unknown) => vscode.commands.registerCommand(id, p.errors.guard(id, fn));
  return [
    cmd('iommuLens.openScenario', async () => {
      const doc = await pickScenario(p);
      if (!doc) return undefined;
      await vscode.window.showTextDocument(doc, { preview: false });
      return (await p.runner.load(doc)) !== undefined;
    }),
    cmd('iommuLens.runScenario', async (uri?: vscode.Uri) => {
      const doc = await resolveScenario(p, uri);
      if (!doc || !(await p.runner.load(doc))) return false;
      await p.runner.runTo('end');
      return true;
    }),
    cmd('iommuLens.step', async (uri?: vscode.Uri) => {
      const doc = await resolveScenario(p, uri);
      if (!doc || !(await p.runner.ensureLoaded(doc))) return false;
      await p.runner.step();
      return true;
    }),
    cmd('iommuLens.runToEnd', async (uri?: vscode.Uri) => {
      const doc = await resolveScenario(p, uri);
      if (!doc || !(await p.runner.ensureLoaded(doc))) return false;
      await p.runner.runTo('end');
      return true;
    }),
    cmd('iommuLens.runToStep', async (uri: vscode.Uri, index: number) => {
      const doc = await resolveScenario(p, uri);
      if (!doc || !(await p.runner.ensureLoaded(doc))) return false;
      await p.runner.runTo(index + 1);
      return true;
    }),
    cmd('iommuLens.reset', () => {
      if (!p.store.current) {
        void vscode.window.showInformationMessage('IOMMU Lens: no scenario is loaded (an imported trace cannot be reset).');
        return false;
      }
      p.runner.reset();
      return true;
    }),
    cmd('iommuLens.choosePreset', async (name?: string) => {
      const preset = typeof name === 'string' ? name : await pickPreset();
      if (!preset) return false;
      return runPreset(p, preset);
    }),
  ];
}

/** The scenario a command acts on: the argument, the active editor, the loaded one, or the user's pick. */
export async function resolveScenario(p: ExtensionParts, uri?: unknown): Promise<vscode.TextDocument | undefined> {
  if (uri instanceof vscode.Uri) return openScenarioDocument(uri);
  const active = vscode.window.activeTextEditor?.document;
  if (active && isScenarioUri(active.uri)) return active;
  if (p.store.source?.kind === 'scenario') return openScenarioDocument(p.store.source.uri);
  const picked = await pickScenario(p);
  if (picked) await vscode.window.showTextDocument(picked, { preview: false });
  return picked;
}

async function openScenarioDocument(uri: vscode.Uri): Promise<vscode.TextDocument> {
  try {
    return await vscode.workspace.openTextDocument(uri);
  } catch (e) {
    throw new UserError(`cannot open ${uri.scheme === 'file' ? uri.fsPath : uri.toString()}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

interface ScenarioPick extends vscode.QuickPickItem { load?: () => Thenable<vscode.TextDocument | undefined> }

async function pickScenario(p: ExtensionParts): Promise<vscode.TextDocument | undefined> {
  const files = await vscode.workspace.findFiles(SCENARIO_GLOB, '**/node_modules/**', 500);
  files.sort((a, b) => a.path.localeCompare(b.path));
  const items: ScenarioPick[] = [];
  if (files.length) items.push({ label: 'Workspace', kind: vscode.QuickPickItemKind.Separator });
  for (const f of files) {
    items.push({ label: `$(file) ${f.path.split('/').pop()}`, description: vscode.workspace.asRelativePath(f, true),
      load: () => vscode.workspace.openTextDocument(f) });
  }
  items.push({ label: 'Built-in', kind: vscode.QuickPickItemKind.Separator });
  for (const b of loadEngine().builtinScenarios()) {
    items.push({ label: `$(beaker) ${b.name}`, description: b.file, load: () => vscode.workspace.openTextDocument(p.virtual.put('builtin', b.name, b.text)) });
  }
  items.push({ label: '', kind: vscode.QuickPickItemKind.Separator });
  items.push({ label: '$(folder-opened) Browse…', description: '*.iommu.yaml, *.iommu.yml, *.iommu.json', load: async () => {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Open Scenario',
      filters: { 'IOMMU Lens scenarios': ['yaml', 'yml', 'json'] } });
    return picked?.[0] ? vscode.workspace.openTextDocument(picked[0]) : undefined;
  } });
  const pick = await vscode.window.showQuickPick(items, { title: 'IOMMU Lens: Open Scenario', placeHolder: 'Scenario file or built-in scenario',
    matchOnDescription: true });
  return pick?.load ? pick.load() : undefined;
}

async function pickPreset(): Promise<string | undefined> {
  const preferred = readSettings().defaultPreset;
  const { getPreset, presetNames } = loadEngine();
  const names = presetNames();
  const items = names.map(n => ({ label: n, description: n === preferred ? 'default (iommuLens.defaultPreset)' : undefined,
    detail: getPreset(n)?.doc }));
  items.sort((a, b) => Number(b.label === preferred) - Number(a.label === preferred));
  const pick = await vscode.window.showQuickPick(items, { title: 'IOMMU Lens: Choose Platform Preset',
    placeHolder: 'A platform to probe and map a buffer on', matchOnDetail: true });
  return pick?.label;
}

/** Generates the preset's quick-look scenario, shows it read-only, and runs it. */
async function runPreset(p: ExtensionParts, name: string): Promise<boolean> {
  const { getPreset, presetNames } = loadEngine();
  const preset = getPreset(name);
  if (!preset) {
    void vscode.window.showErrorMessage(`IOMMU Lens: unknown platform preset "${name}"; known: ${presetNames().join(', ')}`);
    return false;
  }
  const text = presetScenarioText(name, presetDevices(preset.yaml), presetPageSize(preset.kernel));
  const doc = await vscode.workspace.openTextDocument(p.virtual.put('preset', name, text));
  await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: true });
  if (!(await p.runner.load(doc, `${name} preset`))) return false;
  await p.runner.runTo('end');
  return true;
}

function presetDevices(yamlText: string): PresetDevice[] {
  const platform = loadEngine().parseYaml(yamlText) as { devices?: Array<{ name?: unknown; iommu?: unknown; iommus?: unknown }> } | null;
  return (platform?.devices ?? []).filter(d => typeof d.name === 'string').map(d => ({
    name: d.name as string,
    iommu: typeof d.iommu === 'string' ? d.iommu : Array.isArray(d.iommus) && typeof d.iommus[0] === 'string' ? d.iommus[0] : null,
  }));
}

function presetPageSize(kernel: Record<string, unknown> | undefined): number {
  const override = currentOverrides().page_size;
  if (override) return override;
  const v = kernel?.page_size;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && PAGE_SIZES[v.toUpperCase()]) return PAGE_SIZES[v.toUpperCase()];
  return 4096;
}
