// SVA state shared by the two binding models:
//  - `seed`: the 2018 design of seed 004 (iommu/sva: Manage process address spaces): per-device SVA params
//    from iommu_sva_device_init, one io_mm per mm holding one PASID from the binding device's
//    [min_pasid, max_pasid], bonds linking device, domain and io_mm, one PASID table per domain.
//  - `mainline`: today's iommu-sva.c: mm->pasid allocated once from a global space and kept until the mm is
//    torn down, a second bind of the same device and mm takes a reference, PASIDs attached per group,
//    context-descriptor tables per master (arm-smmu-v3).
// Which one runs: `kernel.options.sva: seed | mainline`, else `mainline` from kernel.version 6.4 on, else `seed`.
import type { Kernel } from '../kernel';
import type { Device } from '../iommu/device';
import type { Domain } from '../iommu/domain';
import type { Mm } from './mm';

export type SvaModel = 'seed' | 'mainline';

export const SVA_FEATURES = ['iopf'] as const;

export interface SvaParam {
  features: string[];
  minPasid: number;
  maxPasid: number;
}

/** seed: struct io_mm — one per mm, one PASID, a reference per bond. */
export interface IoMm {
  pasid: number;
  mm: Mm;
  flags: string[];
  refs: number;
}

/** seed: struct iommu_bond. `exited`: the process exited before the driver unbound (the entry is gone). */
export interface Bond {
  ioMm: IoMm;
  dev: Device;
  domain: Domain;
  exited: boolean;
}

/** mainline: a PASID attached to a group (the SVA domain on it) and its users; one handle per bind. */
export interface PasidAttachment {
  groupId: number;
  pasid: number;
  mm: Mm;
  users: number;
}

export interface Handle { dev: Device; mm: Mm; pasid: number }

export interface SvaState {
  params: Map<Device, SvaParam>;
  /** seed: the global PASID IDR */
  ioMms: Map<number, IoMm>;
  bonds: Bond[];
  /** mainline */
  attachments: PasidAttachment[];
  handles: Handle[];
  /** PASIDs in use: seed io_mm PASIDs, mainline mm->pasid values */
  usedPasids: Set<number>;
}

export function svaState(k: Kernel): SvaState {
  let s = k.ext.get('sva') as SvaState | undefined;
  if (!s) {
    s = { params: new Map(), ioMms: new Map(), bonds: [], attachments: [], handles: [], usedPasids: new Set() };
    k.ext.set('sva', s);
  }
  return s;
}

function versionAtLeast(v: string | undefined, major: number, minor: number): boolean {
  if (!v) return false;
  const [a, b] = v.split(/[.-]/).map(x => parseInt(x, 10));
  return a > major || (a === major && (b || 0) >= minor);
}

export function svaModel(k: Kernel): SvaModel {
  const opt = k.cfg.options.sva;
  if (opt === 'seed' || opt === 'mainline') return opt;
  return versionAtLeast(k.cfg.version, 6, 4) ? 'mainline' : 'seed';
}

/** idr_alloc(start, end + 1): the lowest free id in [lo, hi], or -1. */
export function allocPasid(s: SvaState, lo: number, hi: number): number {
  for (let p = lo; p <= hi; p++) if (!s.usedPasids.has(p)) return p;
  return -1;
}
