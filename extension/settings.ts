// The iommuLens.* settings and how they turn into kernel overrides for a scenario. "scenario" (the default
// of the kernel settings) keeps what the scenario file says.
import * as vscode from 'vscode';
import { kernelOverrides, KernelOverrides, SettingsValues } from './settingsModel';

export { kernelOverrides } from './settingsModel';
export type { KernelOverrides, SettingsValues } from './settingsModel';

export const SECTION = 'iommuLens';
/** Settings whose change re-runs the loaded scenario. */
export const KERNEL_SETTINGS = ['cpuPageSize', 'dmaStrict', 'largeIommuPages'].map(k => `${SECTION}.${k}`);

export function readSettings(): SettingsValues {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    defaultPreset: c.get<string>('defaultPreset', 'apple-t8103'),
    cpuPageSize: c.get<string>('cpuPageSize', 'scenario'),
    dmaStrict: c.get<string>('dmaStrict', 'scenario'),
    largeIommuPages: c.get<string>('largeIommuPages', 'scenario'),
    annotationsEnabled: c.get<boolean>('annotations.enabled', true),
    maxSteps: c.get<number>('maxSteps', 100000),
  };
}

export function currentOverrides(): KernelOverrides {
  return kernelOverrides(readSettings());
}

/** Writes a setting where the user would look for it: the workspace when one is open, else user settings. */
export async function updateSetting(key: string, value: unknown): Promise<void> {
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration(SECTION).update(key, value, target);
}
