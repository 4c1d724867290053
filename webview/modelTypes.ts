// Types of the address map's model: a compact, map-specific view of one domain of a Report, built in the
// extension host (model.ts buildMapModel) and sent to the webview. Mappings are columnar (one array per
// field, sorted by IOVA) so 100,000 of them stay small on the wire and fast to index in the browser.

export const MAP_MODEL_VERSION = 1;

/** Bits of MapMappings.flags. */
export const FLAG_STALE = 1;      // unmapped but the IOTLB may still translate it (lazy / DMA_FQ)
export const FLAG_EXPOSED = 2;    // maps bytes beyond what the caller asked for
export const FLAG_BOUNCE = 4;     // points into a swiotlb bounce slot
export const FLAG_FAULTED = 8;    // a device access faulted inside it (permission fault)

export interface MapDomainSummary {
  id: string;
  type: string;
  iommu: string;
  devices: string[];
  mappings: number;
}

export interface MapDomainInfo extends MapDomainSummary {
  granule: number;
  pgsizes: number[];
  format: string | null;
  /** IOVA range the domain can translate, end exclusive */
  aperture: { start: number; end: number };
}

/** Columnar mappings, sorted by iova (then size). Index i of every array describes mapping i. */
export interface MapMappings {
  iova: number[];
  size: number[];
  paddr: number[];
  /** offset and length of the bytes the caller asked for, inside the mapping (the rest is exposure) */
  reqOff: number[];
  reqLen: number[];
  exposed: number[];
  flags: number[];
  /** indexes into MapModel.strings, -1 when unknown */
  prot: number[];
  owner: number[];
  device: number[];
  /** index into MapModel.buffers of the CPU buffer the mapping was made for, -1 when unknown */
  buffer: number[];
  /** scenario step that created it, -1 when unknown */
  step: number[];
}

/** Bits of MapBuffers.flags. */
export const BUF_FREED = 1;
export const BUF_BOUNCE = 2;     // a swiotlb bounce slot

/** CPU buffers, columnar, sorted by paddr; kind and owner index MapModel.strings. */
export interface MapBuffers {
  id: string[];
  kind: number[];
  paddr: number[];
  size: number[];
  owner: number[];
  flags: number[];
  step: number[];
}

/** One CPU buffer as an object (bufferAt), for descriptions. */
export interface MapBuffer {
  id: string;
  kind: string;
  paddr: number;
  size: number;
  owner: string | null;
  freed: boolean;
  /** a swiotlb bounce slot */
  bounce: boolean;
  step: number;
}

export interface MapFault {
  iova: number;
  step: number;
  dev: string;
  kind: string;
  access: string | null;
  message: string;
  /** mapping the fault hit (permission faults), -1 for holes */
  mapping: number;
}

export interface MapReserved {
  start: number;
  end: number;
  why: string;
}

export interface MapStepInfo {
  op: string;
  site: string | null;
}

/** Steps referenced by mappings, buffers and faults: columnar, sorted by index; op and site index strings. */
export interface MapSteps {
  index: number[];
  op: number[];
  site: number[];
}

export interface MapModel {
  version: typeof MAP_MODEL_VERSION;
  scenario: string;
  /** shown instead of the map when there is nothing to draw (no session, no domains) */
  message: string | null;
  /** report values the builder had to skip, each naming the value */
  problems: string[];
  domains: MapDomainSummary[];
  domain: MapDomainInfo | null;
  pageSize: number;
  memory: { base: number; size: number } | null;
  strings: string[];
  mappings: MapMappings;
  buffers: MapBuffers;
  faults: MapFault[];
  reserved: MapReserved[];
  steps: MapSteps;
}

export function emptyMappings(): MapMappings {
  return { iova: [], size: [], paddr: [], reqOff: [], reqLen: [], exposed: [], flags: [], prot: [], owner: [],
    device: [], buffer: [], step: [] };
}

export function emptyBuffers(): MapBuffers {
  return { id: [], kind: [], paddr: [], size: [], owner: [], flags: [], step: [] };
}

export function bufferAt(m: MapModel, i: number): MapBuffer {
  const b = m.buffers;
  return { id: b.id[i], kind: m.strings[b.kind[i]] ?? '?', paddr: b.paddr[i], size: b.size[i],
    owner: b.owner[i] >= 0 ? m.strings[b.owner[i]] ?? null : null, freed: (b.flags[i] & BUF_FREED) !== 0,
    bounce: (b.flags[i] & BUF_BOUNCE) !== 0, step: b.step[i] };
}

/** A model with nothing to draw and a message saying why. */
export function emptyMapModel(message: string): MapModel {
  return { version: MAP_MODEL_VERSION, scenario: '', message, problems: [], domains: [], domain: null, pageSize: 4096,
    memory: null, strings: [], mappings: emptyMappings(), buffers: emptyBuffers(), faults: [], reserved: [], steps: { index: [], op: [], site: [] } };
}

/** Op and driver source site of a step (null when the model does not know the step). */
export function stepInfo(m: MapModel, step: number): MapStepInfo | null {
  const ix = m.steps.index;
  let lo = 0;
  let hi = ix.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ix[mid] < step) lo = mid + 1;
    else hi = mid;
  }
  if (step < 0 || ix[lo] !== step) return null;
  return { op: m.strings[m.steps.op[lo]] ?? '?', site: m.steps.site[lo] >= 0 ? m.strings[m.steps.site[lo]] ?? null : null };
}
