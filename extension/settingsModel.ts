// Pure part of the settings: validation of the values and the kernel overrides they mean. No vscode.
import { UserError } from './userError';

export interface SettingsValues {
  defaultPreset: string;
  cpuPageSize: string;        // "scenario" | "4K" | "16K" | "64K"
  dmaStrict: string;          // "scenario" | "strict" | "lazy"
  largeIommuPages: string;    // "scenario" | "applied" | "mainline"
  annotationsEnabled: boolean;
  maxSteps: number;
}

/** Kernel options that replace the scenario's `kernel:` values. */
export interface KernelOverrides {
  page_size?: number;
  dma_strict?: boolean;
  large_iommu_pages?: boolean;
}

export const PAGE_SIZES: Record<string, number> = { '4K': 4096, '16K': 16384, '64K': 65536 };

/** A settings.json value as the user wrote it ("16K", {}, 4096), for messages. */
function shown(v: unknown): string {
  try {
    return JSON.stringify(v) ?? typeof v;
  } catch {
    return typeof v;           // a cycle or a BigInt: settings.json cannot hold those, a caller might
  }
}

/** Throws an Error naming the setting and the offending value: settings.json can hold anything. */
export function kernelOverrides(s: SettingsValues): KernelOverrides {
  const o: KernelOverrides = {};
  if (s.cpuPageSize !== 'scenario') {
    // own keys only: "constructor" or "__proto__" in settings.json must not reach the kernel as a page size
    const size = typeof s.cpuPageSize === 'string' && Object.hasOwn(PAGE_SIZES, s.cpuPageSize) ? PAGE_SIZES[s.cpuPageSize] : undefined;
    if (!size) throw new UserError(`iommuLens.cpuPageSize: ${shown(s.cpuPageSize)} is not one of scenario, 4K, 16K, 64K`);
    o.page_size = size;
  }
  if (s.dmaStrict !== 'scenario') {
    if (s.dmaStrict !== 'strict' && s.dmaStrict !== 'lazy') {
      throw new UserError(`iommuLens.dmaStrict: ${shown(s.dmaStrict)} is not one of scenario, strict, lazy`);
    }
    o.dma_strict = s.dmaStrict === 'strict';
  }
  if (s.largeIommuPages !== 'scenario') {
    if (s.largeIommuPages !== 'applied' && s.largeIommuPages !== 'mainline') {
      throw new UserError(`iommuLens.largeIommuPages: ${shown(s.largeIommuPages)} is not one of scenario, applied, mainline`);
    }
    o.large_iommu_pages = s.largeIommuPages === 'applied';
  }
  return o;
}

/** Checked step limit: a positive integer. */
export function maxStepsOf(s: SettingsValues): number {
  if (!Number.isSafeInteger(s.maxSteps) || s.maxSteps < 1) {
    throw new UserError(`iommuLens.maxSteps: ${JSON.stringify(s.maxSteps)} is not a positive integer`);
  }
  return s.maxSteps;
}
