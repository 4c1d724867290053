// Types of the address map's model: a compact, map-specific view of one domain of a Report, built in the
// extension host (model.ts buildMapModel) and sent to the webview as is. Mappings, buffers and steps are
// columnar typed arrays (one per field, sorted), and every name sits in one packed string table, so 100,000
// mappings travel as a few dozen buffers — not 100,000 objects — and the page indexes them without copying.
// Addresses and sizes are Float64Array holding integers below 2^53 (the builder skips, and names in `problems`,
// any report value that is not an exact safe integer; the page checks it again on arrival, hostMessage.ts).

export const MAP_MODEL_VERSION = 2;

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

/** Every string of a model: string i is text.slice(i ? end[i - 1] : 0, end[i]). */
export interface StringTable {
  text: string;
  end: Uint32Array;
}

/** Columnar mappings, sorted by iova (then size). Index i of every column describes mapping i. */
export interface MapMappings {
  iova: Float64Array;
  size: Float64Array;
  paddr: Float64Array;
  /** offset and length of the bytes the caller asked for, inside the mapping (the rest is exposure) */
  reqOff: Float64Array;
  reqLen: Float64Array;
  exposed: Float64Array;
  flags: Int32Array;
  /** indexes into MapModel.strings, -1 when unknown */
  prot: Int32Array;
  owner: Int32Array;
  device: Int32Array;
  /** index into MapModel.buffers of the CPU buffer the mapping was made for, -1 when unknown */
  buffer: Int32Array;
  /** scenario step that created it, -1 when unknown */
  step: Float64Array;
  /** mapping indexes in physical order (by paddr, then size): the physical band's index, sorted by the host */
  byPaddr: Int32Array;
}

/** Bits of MapBuffers.flags. */
export const BUF_FREED = 1;
export const BUF_BOUNCE = 2;     // a swiotlb bounce slot

/** CPU buffers, columnar, sorted by paddr (then size); id, kind and owner index MapModel.strings. */
export interface MapBuffers {
  id: Int32Array;
  kind: Int32Array;
  paddr: Float64Array;
  size: Float64Array;
  owner: Int32Array;
  flags: Int32Array;
  step: Float64Array;
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
  index: Float64Array;
  op: Int32Array;
  site: Int32Array;
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
  strings: StringTable;
  mappings: MapMappings;
  buffers: MapBuffers;
  faults: MapFault[];
  reserved: MapReserved[];
  steps: MapSteps;
}

export function emptyMappings(): MapMappings {
  return { iova: new Float64Array(0), size: new Float64Array(0), paddr: new Float64Array(0), reqOff: new Float64Array(0),
    reqLen: new Float64Array(0), exposed: new Float64Array(0), flags: new Int32Array(0), prot: new Int32Array(0),
    owner: new Int32Array(0), device: new Int32Array(0), buffer: new Int32Array(0), step: new Float64Array(0),
    byPaddr: new Int32Array(0) };
}

export function emptyBuffers(): MapBuffers {
  return { id: new Int32Array(0), kind: new Int32Array(0), paddr: new Float64Array(0), size: new Float64Array(0),
    owner: new Int32Array(0), flags: new Int32Array(0), step: new Float64Array(0) };
}

/** Number of strings in the table. */
export const stringCount = (t: StringTable): number => t.end.length;

/** String i of the model, or null for -1 (unknown) and indexes outside the table. */
export function stringAt(m: MapModel, i: number): string | null {
  const end = m.strings.end;
  if (!(i >= 0 && i < end.length)) return null;
  return m.strings.text.slice(i ? end[i - 1] : 0, end[i]);
}

export function bufferAt(m: MapModel, i: number): MapBuffer {
  const b = m.buffers;
  return { id: stringAt(m, b.id[i]) ?? '?', kind: stringAt(m, b.kind[i]) ?? '?', paddr: b.paddr[i], size: b.size[i],
    owner: stringAt(m, b.owner[i]), freed: (b.flags[i] & BUF_FREED) !== 0,
    bounce: (b.flags[i] & BUF_BOUNCE) !== 0, step: b.step[i] };
}

/** A model with nothing to draw and a message saying why. */
export function emptyMapModel(message: string): MapModel {
  return { version: MAP_MODEL_VERSION, scenario: '', message, problems: [], domains: [], domain: null, pageSize: 4096,
    memory: null, strings: { text: '', end: new Uint32Array(0) }, mappings: emptyMappings(), buffers: emptyBuffers(), faults: [],
    reserved: [], steps: { index: new Float64Array(0), op: new Int32Array(0), site: new Int32Array(0) } };
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
  return { op: stringAt(m, m.steps.op[lo]) ?? '?', site: stringAt(m, m.steps.site[lo]) };
}
