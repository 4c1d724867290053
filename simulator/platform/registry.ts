// What the loader needs to know about hardware models and presets, without importing the models themselves.
// Models register the parameters an inline `iommus:` entry may carry; presets register their platform text
// (YAML in the inline-platform form, so errors in a preset point at preset:NAME:LINE:COL).
import type { ArgField } from '../scenario/opspec';

export interface ModelParamSchema {
  model: string;
  doc: string;
  params: Record<string, ArgField>;
}

export interface PresetSource {
  name: string;
  doc: string;
  /** YAML of an inline platform object: { memory, iommus, devices } */
  yaml: string;
  /** kernel defaults the preset implies (e.g. a 16K kernel on Apple) */
  kernel?: Record<string, unknown>;
}

const models = new Map<string, ModelParamSchema>();
const presets = new Map<string, PresetSource>();

export function registerModelParams(s: ModelParamSchema): void { models.set(s.model, s); }
export function getModelParams(model: string): ModelParamSchema | undefined { return models.get(model); }
export function modelNames(): string[] { return [...models.keys()].sort(); }

export function registerPreset(p: PresetSource): void { presets.set(p.name, p); }
export function getPreset(name: string): PresetSource | undefined { return presets.get(name); }
export function presetNames(): string[] { return [...presets.keys()].sort(); }
