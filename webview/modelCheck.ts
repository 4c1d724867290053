// Checks a MapModel as the webview receives it (the `model` of a snapshot message): every field of the right
// type, every typed-array column as long as its table, addresses exact (integers below 2^53, ends included),
// indexes inside the tables they point into, and the orders the page's binary searches rely on (mappings by
// IOVA, byPaddr a permutation sorted by physical address, buffers by paddr, faults by IOVA, steps by index).
// A table is checked in one fused pass over its typed arrays (the page's code is cold when the first snapshot
// arrives, so fewer loops cost less); only when that pass finds something wrong do the per-column checks run,
// to name the first bad field. Throws Invalid naming it.
import {
  addr, count, fail, index, list, natural, nullable, obj, str, text,
} from './check';
import {
  MAP_MODEL_VERSION, type MapBuffers, type MapDomainInfo, type MapDomainSummary, type MapFault, type MapMappings,
  type MapModel, type MapReserved, type MapSteps, type StringTable,
} from './modelTypes';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const ANY_LENGTH = -1;

function f64(v: unknown, path: string, n: number): Float64Array {
  if (!(v instanceof Float64Array)) fail(path, v, 'a Float64Array');
  if (n !== ANY_LENGTH && v.length !== n) fail(path, v, `${n} elements, one per row of its table`);
  return v;
}

function i32(v: unknown, path: string, n: number): Int32Array {
  if (!(v instanceof Int32Array)) fail(path, v, 'an Int32Array');
  if (n !== ANY_LENGTH && v.length !== n) fail(path, v, `${n} elements, one per row of its table`);
  return v;
}

/** Every element an integer in [min, 2^53). */
function integers(a: Float64Array, path: string, min: number): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (!(x >= min && x <= MAX_SAFE && Math.floor(x) === x)) {
      fail(`${path}[${i}]`, x, min === 0 ? 'an address (integer 0..2^53-1)' : min === 1 ? 'a positive integer' : `an integer >= ${min}`);
    }
  }
}

/** start + size exact (at most 2^53) for every row: both are checked safe integers, so the subtraction is exact. */
function exactEnds(start: Float64Array, size: Float64Array, path: string): void {
  for (let i = 0; i < start.length; i++) {
    if (start[i] > 2 ** 53 - size[i]) fail(`${path}[${i}]`, start[i], `a range that ends at most at 2^53 (size ${size[i]})`);
  }
}

function nonDecreasing(a: ArrayLike<number>, path: string): void {
  for (let i = 1; i < a.length; i++) if (a[i] < a[i - 1]) fail(`${path}[${i}]`, a[i], `at least ${a[i - 1]} (sorted ascending)`);
}

/** Rows sorted by start, then size (how the builder orders mappings and buffers). */
function sortedRanges(start: Float64Array, size: Float64Array, path: string): void {
  nonDecreasing(start, `${path}`);
  for (let i = 1; i < start.length; i++) {
    if (start[i] === start[i - 1] && size[i] < size[i - 1]) fail(`${path}[${i}]`, start[i], `a row after the longer one at the same address (sorted by address, then size)`);
  }
}

/** Every element in [min, limit). */
function inRange(a: Int32Array, path: string, min: number, limit: number, what: string): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (x < min || x >= limit) fail(`${path}[${i}]`, x, `${what} (${min}..${limit - 1})`);
  }
}

/** `order` holds each of 0..n-1 once, and takes the rows by start, then size. */
function sortingPermutation(order: Int32Array, start: Float64Array, size: Float64Array, path: string): void {
  const n = order.length;
  const seen = new Uint8Array(n);
  let prevStart = -1;
  let prevSize = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    if (i < 0 || i >= n || seen[i] !== 0) fail(`${path}[${k}]`, i, `a permutation of the row indexes 0..${n - 1}`);
    seen[i] = 1;
    const a = start[i];
    const z = size[i];
    if (a < prevStart || (a === prevStart && z < prevSize)) fail(`${path}[${k}]`, i, 'the next row by address, then size (sorted ascending)');
    prevStart = a;
    prevSize = z;
  }
}

const TOP = 2 ** 53;

/**
 * The fused check of the mapping columns: every address and size an exact integer with an exact end, the
 * requested window inside the mapping, IOVA order, flag bits and table indexes in range. False sends the
 * caller to the per-column checks, which name the bad field.
 */
function mappingsPass(m: MapMappings, strings: number, buffers: number): boolean {
  const { iova, size, paddr, reqOff, reqLen, exposed, step, flags, prot, owner, device, buffer } = m;
  let prevA = -1;
  let prevZ = 0;
  for (let i = 0; i < iova.length; i++) {
    const a = iova[i];
    const z = size[i];
    const pa = paddr[i];
    const ro = reqOff[i];
    const rl = reqLen[i];
    const ex = exposed[i];
    const st = step[i];
    // a <= TOP - z with z >= 1 keeps a and the end exact; NaN fails every comparison
    if (!(a >= 0 && z >= 1 && z <= MAX_SAFE && a <= TOP - z && pa >= 0 && pa <= TOP - z && ro >= 0 && rl >= 0 && ro + rl <= z &&
      ex >= 0 && ex <= MAX_SAFE && st >= -1 && st <= MAX_SAFE)) return false;
    if (Math.floor(a) !== a || Math.floor(z) !== z || Math.floor(pa) !== pa || Math.floor(ro) !== ro || Math.floor(rl) !== rl ||
      Math.floor(ex) !== ex || Math.floor(st) !== st) return false;
    if (a < prevA || (a === prevA && z < prevZ)) return false;
    prevA = a;
    prevZ = z;
    if (flags[i] >>> 4 !== 0 || prot[i] < -1 || prot[i] >= strings || owner[i] < -1 || owner[i] >= strings ||
      device[i] < -1 || device[i] >= strings || buffer[i] < -1 || buffer[i] >= buffers) return false;
  }
  return true;
}

/** The fused check of the buffer columns (as mappingsPass). */
function buffersPass(b: MapBuffers, strings: number): boolean {
  const { paddr, size, step, id, kind, owner, flags } = b;
  let prevA = -1;
  let prevZ = 0;
  for (let i = 0; i < paddr.length; i++) {
    const a = paddr[i];
    const z = size[i];
    const st = step[i];
    if (!(a >= 0 && z >= 1 && z <= MAX_SAFE && a <= TOP - z && st >= -1 && st <= MAX_SAFE)) return false;
    if (Math.floor(a) !== a || Math.floor(z) !== z || Math.floor(st) !== st) return false;
    if (a < prevA || (a === prevA && z < prevZ)) return false;
    prevA = a;
    prevZ = z;
    if (flags[i] >>> 2 !== 0 || id[i] < -1 || id[i] >= strings || kind[i] < -1 || kind[i] >= strings ||
      owner[i] < -1 || owner[i] >= strings) return false;
  }
  return true;
}

function ascending32(a: Uint32Array): boolean {
  for (let i = 1; i < a.length; i++) if (a[i] < a[i - 1]) return false;
  return true;
}

function stringTable(v: unknown, p: string): StringTable {
  const o = obj(v, p, ['text', 'end']);
  if (typeof o.text !== 'string') fail(`${p}.text`, o.text, 'a string');
  if (!(o.end instanceof Uint32Array)) fail(`${p}.end`, o.end, 'a Uint32Array');
  if (!ascending32(o.end)) nonDecreasing(o.end, `${p}.end`);
  const last = o.end.length ? o.end[o.end.length - 1] : 0;
  if (last !== o.text.length) fail(`${p}.end`, last, `the text's length ${o.text.length} as its last element`);
  return { text: o.text, end: o.end };
}

const MAPPING_KEYS = ['iova', 'size', 'paddr', 'reqOff', 'reqLen', 'exposed', 'flags', 'prot', 'owner', 'device', 'buffer', 'step', 'byPaddr'];

function mappings(v: unknown, p: string, strings: number, buffers: number): MapMappings {
  const o = obj(v, p, MAPPING_KEYS);
  const iova = f64(o.iova, `${p}.iova`, ANY_LENGTH);
  const n = iova.length;
  const m: MapMappings = {
    iova, size: f64(o.size, `${p}.size`, n), paddr: f64(o.paddr, `${p}.paddr`, n), reqOff: f64(o.reqOff, `${p}.reqOff`, n),
    reqLen: f64(o.reqLen, `${p}.reqLen`, n), exposed: f64(o.exposed, `${p}.exposed`, n), flags: i32(o.flags, `${p}.flags`, n),
    prot: i32(o.prot, `${p}.prot`, n), owner: i32(o.owner, `${p}.owner`, n), device: i32(o.device, `${p}.device`, n),
    buffer: i32(o.buffer, `${p}.buffer`, n), step: f64(o.step, `${p}.step`, n), byPaddr: i32(o.byPaddr, `${p}.byPaddr`, n),
  };
  if (!mappingsPass(m, strings, buffers)) mappingErrors(m, p, strings, buffers);
  sortingPermutation(m.byPaddr, m.paddr, m.size, `${p}.byPaddr`);
  return m;
}

/** Names the first bad field of mapping columns that failed mappingsPass. */
function mappingErrors(m: MapMappings, p: string, strings: number, buffers: number): never {
  const n = m.iova.length;
  integers(m.iova, `${p}.iova`, 0);
  integers(m.size, `${p}.size`, 1);
  integers(m.paddr, `${p}.paddr`, 0);
  exactEnds(m.iova, m.size, `${p}.iova`);
  exactEnds(m.paddr, m.size, `${p}.paddr`);
  sortedRanges(m.iova, m.size, `${p}.iova`);
  integers(m.reqOff, `${p}.reqOff`, 0);
  integers(m.reqLen, `${p}.reqLen`, 0);
  integers(m.exposed, `${p}.exposed`, 0);
  for (let i = 0; i < n; i++) {
    if (m.reqOff[i] + m.reqLen[i] > m.size[i]) fail(`${p}.reqLen[${i}]`, m.reqLen[i], `at most ${m.size[i] - m.reqOff[i]} (the requested bytes lie inside the mapping)`);
  }
  inRange(m.flags, `${p}.flags`, 0, 16, 'flag bits');
  inRange(m.prot, `${p}.prot`, -1, strings, 'a string index');
  inRange(m.owner, `${p}.owner`, -1, strings, 'a string index');
  inRange(m.device, `${p}.device`, -1, strings, 'a string index');
  inRange(m.buffer, `${p}.buffer`, -1, buffers, 'a buffer index');
  integers(m.step, `${p}.step`, -1);
  throw new Error('mappingsPass and the per-column checks disagree');
}

function buffersOf(v: unknown, p: string, strings: number): MapBuffers {
  const o = obj(v, p, ['id', 'kind', 'paddr', 'size', 'owner', 'flags', 'step']);
  const paddr = f64(o.paddr, `${p}.paddr`, ANY_LENGTH);
  const n = paddr.length;
  const b: MapBuffers = { id: i32(o.id, `${p}.id`, n), kind: i32(o.kind, `${p}.kind`, n), paddr, size: f64(o.size, `${p}.size`, n),
    owner: i32(o.owner, `${p}.owner`, n), flags: i32(o.flags, `${p}.flags`, n), step: f64(o.step, `${p}.step`, n) };
  if (buffersPass(b, strings)) return b;
  integers(b.paddr, `${p}.paddr`, 0);
  integers(b.size, `${p}.size`, 1);
  exactEnds(b.paddr, b.size, `${p}.paddr`);
  sortedRanges(b.paddr, b.size, `${p}.paddr`);
  inRange(b.id, `${p}.id`, -1, strings, 'a string index');
  inRange(b.kind, `${p}.kind`, -1, strings, 'a string index');
  inRange(b.owner, `${p}.owner`, -1, strings, 'a string index');
  inRange(b.flags, `${p}.flags`, 0, 4, 'flag bits');
  integers(b.step, `${p}.step`, -1);
  throw new Error('buffersPass and the per-column checks disagree');
}

function stepsPass(s: MapSteps, strings: number): boolean {
  const { index: ix, op, site } = s;
  let prev = 0;
  for (let i = 0; i < ix.length; i++) {
    const x = ix[i];
    if (!(x >= prev && x <= MAX_SAFE && Math.floor(x) === x)) return false;
    prev = x;
    if (op[i] < -1 || op[i] >= strings || site[i] < -1 || site[i] >= strings) return false;
  }
  return true;
}

function steps(v: unknown, p: string, strings: number): MapSteps {
  const o = obj(v, p, ['index', 'op', 'site']);
  const ix = f64(o.index, `${p}.index`, ANY_LENGTH);
  const s: MapSteps = { index: ix, op: i32(o.op, `${p}.op`, ix.length), site: i32(o.site, `${p}.site`, ix.length) };
  if (stepsPass(s, strings)) return s;
  integers(ix, `${p}.index`, 0);
  nonDecreasing(ix, `${p}.index`);
  inRange(s.op, `${p}.op`, -1, strings, 'a string index');
  inRange(s.site, `${p}.site`, -1, strings, 'a string index');
  throw new Error('stepsPass and the per-column checks disagree');
}

function summaryFields(o: Record<string, unknown>, p: string): MapDomainSummary {
  return { id: str(o.id, `${p}.id`), type: str(o.type, `${p}.type`), iommu: str(o.iommu, `${p}.iommu`),
    devices: list(o.devices, `${p}.devices`, str), mappings: natural(o.mappings, `${p}.mappings`) };
}

const SUMMARY_KEYS = ['id', 'type', 'iommu', 'devices', 'mappings'];

function domainInfo(v: unknown, p: string): MapDomainInfo {
  const o = obj(v, p, [...SUMMARY_KEYS, 'granule', 'pgsizes', 'format', 'aperture']);
  const ap = obj(o.aperture, `${p}.aperture`, ['start', 'end']);
  const aperture = { start: addr(ap.start, `${p}.aperture.start`), end: addr(ap.end, `${p}.aperture.end`) };
  if (aperture.end <= aperture.start) fail(`${p}.aperture.end`, aperture.end, `an end above the start ${aperture.start}`);
  return { ...summaryFields(o, p), granule: count(o.granule, `${p}.granule`), pgsizes: list(o.pgsizes, `${p}.pgsizes`, count),
    format: nullable(str)(o.format, `${p}.format`), aperture };
}

function fault(v: unknown, p: string, mappingCount: number): MapFault {
  const o = obj(v, p, ['iova', 'step', 'dev', 'kind', 'access', 'message', 'mapping']);
  const mapping = index(o.mapping, `${p}.mapping`);
  if (mapping >= mappingCount) fail(`${p}.mapping`, mapping, `a mapping index (-1..${mappingCount - 1})`);
  return { iova: addr(o.iova, `${p}.iova`), step: index(o.step, `${p}.step`), dev: str(o.dev, `${p}.dev`), kind: str(o.kind, `${p}.kind`),
    access: nullable(str)(o.access, `${p}.access`), message: text(o.message, `${p}.message`), mapping };
}

function reserved(v: unknown, p: string): MapReserved {
  const o = obj(v, p, ['start', 'end', 'why']);
  const r = { start: addr(o.start, `${p}.start`), end: addr(o.end, `${p}.end`), why: str(o.why, `${p}.why`) };
  if (r.end < r.start) fail(`${p}.end`, r.end, `an end at or above the start ${r.start}`);
  return r;
}

const MODEL_KEYS = ['version', 'scenario', 'message', 'problems', 'domains', 'domain', 'pageSize', 'memory', 'strings', 'mappings',
  'buffers', 'faults', 'reserved', 'steps'];

/** The model of a snapshot message, checked; throws Invalid naming the first bad field under `p`. */
export function checkMapModel(v: unknown, p: string): MapModel {
  const o = obj(v, p, MODEL_KEYS);
  if (o.version !== MAP_MODEL_VERSION) fail(`${p}.version`, o.version, `${MAP_MODEL_VERSION} (this webview's model version)`);
  const strings = stringTable(o.strings, `${p}.strings`);
  const nStrings = strings.end.length;
  const buffers = buffersOf(o.buffers, `${p}.buffers`, nStrings);
  const mp = mappings(o.mappings, `${p}.mappings`, nStrings, buffers.paddr.length);
  const memory = nullable((x, q) => {
    const r = obj(x, q, ['base', 'size']);
    const mem = { base: addr(r.base, `${q}.base`), size: count(r.size, `${q}.size`) };
    if (mem.base > 2 ** 53 - mem.size) fail(`${q}.size`, mem.size, 'a size that ends at most at 2^53');
    return mem;
  })(o.memory, `${p}.memory`);
  const faults = list(o.faults, `${p}.faults`, (x, q) => fault(x, q, mp.iova.length));
  nonDecreasing(faults.map(f => f.iova), `${p}.faults[].iova`);
  const res = list(o.reserved, `${p}.reserved`, reserved);
  nonDecreasing(res.map(r => r.start), `${p}.reserved[].start`);
  return {
    version: MAP_MODEL_VERSION,
    scenario: text(o.scenario, `${p}.scenario`),
    message: nullable(text)(o.message, `${p}.message`),
    problems: list(o.problems, `${p}.problems`, text),
    domains: list(o.domains, `${p}.domains`, (x, q) => summaryFields(obj(x, q, SUMMARY_KEYS), q)),
    domain: nullable(domainInfo)(o.domain, `${p}.domain`),
    pageSize: count(o.pageSize, `${p}.pageSize`),
    memory,
    strings,
    mappings: mp,
    buffers,
    faults,
    reserved: res,
    steps: steps(o.steps, `${p}.steps`, nStrings),
  };
}
