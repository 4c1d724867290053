// Bodies of the dma tracepoints (include/trace/events/dma.h) parsed back into values: the exact inverse of
// tracepoints.ts's dma* formats. `DEVICE key=value …`, with the keys each event prints; see import-body.ts
// for the cursor and the IOMMU events' bodies.
import { BodyError, Cursor, shown } from './import-body';
import { detached } from './import-line';

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** Fields of the dma tracepoints (include/trace/events/dma.h); which ones appear depends on the event. */
export interface DmaBody {
  dev: string;
  dir?: string;
  dma?: number;                        // dma_addr=%llx
  dmaAt?: number;                      // its digits are text[dmaAt, dmaEnd) of the text parsed
  dmaEnd?: number;
  size?: number;
  phys?: number;                       // phys_addr=%llx
  virt?: string;                       // virt_addr=%p (hashed: kept as text)
  flags?: string;                      // gfp flags
  attrs?: string;
  nents?: [number, number];            // printed / full
  ents?: [number, number];
  truncated?: boolean;
  dmaAddrs?: number[];
  sizes?: number[];
  physAddrs?: number[];
  err?: number;
  mappingError?: boolean;              // dma_addr=ffffffffffffffff: DMA_MAPPING_ERROR
}

const DMA_MAPPING_ERROR_TEXT = 'ffffffffffffffff';

/** Keys that may follow the device name: the device ends at the first space before one of them. */
const DMA_FIRST_KEYS = ['dir=', 'dma_addr=', 'dma_addrs=', 'phys_addrs='];

/** `{0x1,0x2}` as __print_array prints it. */
function parseArray(c: Cursor, field: string): number[] {
  c.lit('{');
  const out: number[] = [];
  if (c.tryLit('}')) return out;
  for (;;) {
    c.lit('0x');
    out.push(c.hex(field));
    if (c.tryLit('}')) return out;
    c.lit(',');
  }
}

function pair(c: Cursor, field: string): [number, number] {
  const a = c.int(field);
  c.lit('/');
  return [a, c.int(field)];
}

/** A DmaBody with every field present (one object shape); pass it back to parseDmaBody to reuse it. */
export function emptyDmaBody(): DmaBody {
  return {
    dev: '', dir: undefined, dma: undefined, dmaAt: undefined, dmaEnd: undefined, size: undefined, phys: undefined, virt: undefined, flags: undefined,
    attrs: undefined, nents: undefined, ents: undefined, truncated: undefined, dmaAddrs: undefined, sizes: undefined,
    physAddrs: undefined, err: undefined, mappingError: undefined,
  };
}

function clear(b: DmaBody): void {
  b.dir = b.dma = b.dmaAt = b.dmaEnd = b.size = b.phys = b.virt = b.flags = b.attrs = b.nents = b.ents = undefined;
  b.truncated = b.dmaAddrs = b.sizes = b.physAddrs = b.err = b.mappingError = undefined;
}

/** decode_dma_data_direction's names, so the common ones cost no new string. */
const DIRECTIONS = ['BIDIRECTIONAL', 'TO_DEVICE', 'FROM_DEVICE', 'NONE'];
function direction(c: Cursor): string {
  for (const d of DIRECTIONS) {
    const end = c.pos + d.length;
    if (c.s.startsWith(d, c.pos) && (end === c.stop || c.s.charCodeAt(end) === 32)) {
      c.pos = end;
      return d;
    }
  }
  return c.word();
}

/** Where the device name ends: the first space followed by a key that may come first, or -1. */
function deviceEnd(c: Cursor): number {
  const s = c.s;
  for (let i = c.pos; i < c.stop; i++) {
    if (s.charCodeAt(i) !== 32) continue;
    if (i === c.pos) return -1;                       // no name before the space
    for (const k of DMA_FIRST_KEYS) if (s.startsWith(k, i + 1)) return i;
  }
  return -1;
}

/**
 * One `key=value` at the cursor into `body`; false when the key is not one of the dma events'. Keys are
 * told apart by their first letter (none is a prefix of another, so the order of the tests is free).
 */
function dmaField(c: Cursor, body: DmaBody): boolean {
  switch (c.s.charCodeAt(c.pos)) {
    case 100: /* d */
      if (c.tryLit('dir=')) body.dir = direction(c);
      else if (c.tryLit('dma_addr=')) {
        const s = c.s;
        if (s.startsWith(DMA_MAPPING_ERROR_TEXT, c.pos) && !isHex(s.charCodeAt(c.pos + 16))) {
          c.pos += 16;
          body.mappingError = true;
        } else {
          body.dmaAt = c.pos;
          body.dma = c.hex('dma_addr');
          body.dmaEnd = c.pos;
        }
      // dma_map_sg_err prints the physical addresses under the name dma_addrs; callers sort that out.
      } else if (c.tryLit('dma_addrs=')) body.dmaAddrs = parseArray(c, 'dma_addrs');
      else return false;
      return true;
    case 115: /* s */
      if (c.tryLit('size=')) body.size = c.dec('size');
      else if (c.tryLit('sizes=')) body.sizes = parseArray(c, 'sizes');
      else return false;
      return true;
    case 112: /* p */
      if (c.tryLit('phys_addr=')) body.phys = c.hex('phys_addr');
      else if (c.tryLit('phys_addrs=')) body.physAddrs = parseArray(c, 'phys_addrs');
      else return false;
      return true;
    case 97: /* a */
      if (!c.tryLit('attrs=')) return false;
      body.attrs = c.word();
      return true;
    case 118: /* v */
      if (!c.tryLit('virt_addr=')) return false;
      body.virt = c.word();
      return true;
    case 102: /* f */
      if (!c.tryLit('flags=')) return false;
      body.flags = c.word();
      return true;
    case 110: /* n */
      if (!c.tryLit('nents=')) return false;
      body.nents = pair(c, 'nents');
      return true;
    case 101: /* e */
      if (c.tryLit('ents=')) body.ents = pair(c, 'ents');
      else if (c.tryLit('err=')) body.err = c.int('err');
      else return false;
      return true;
    case 91: /* [ */
      if (!c.tryLit('[TRUNCATED]')) return false;
      body.truncated = true;
      return true;
    default:
      return false;
  }
}

/**
 * The last device names read, reused when the text names one of them again: a trace names a handful of
 * devices a million times, and a reused string is also one whose hash the device tables already know.
 */
const recentDevices: string[] = new Array(8).fill('');
let nextDevice = 0;
function deviceName(s: string, from: number, to: number): string {
  for (const d of recentDevices) if (d.length === to - from && s.startsWith(d, from)) return d;
  const d = detached(s.slice(from, to));
  recentDevices[nextDevice] = d;
  nextDevice = (nextDevice + 1) % recentDevices.length;
  return d;
}

/**
 * `DEVICE key=value key=value …`. The device name is everything before the first known key; values hold
 * no spaces (attrs and flags may be empty). ` [TRUNCATED]` may follow the ents= pair of dma_map_sg.
 * Parses into `body` (cleared first), which may be reused from call to call.
 */
export function parseDmaBody(c: Cursor, body: DmaBody = emptyDmaBody()): DmaBody {
  const s = c.s;
  const devEnd = deviceEnd(c);
  if (devEnd < 0) c.fail('"DEVICE dir=…"');
  clear(body);
  body.dev = deviceName(s, c.pos, devEnd);
  c.pos = devEnd;
  while (!c.atEnd()) {
    c.lit(' ');
    const keyAt = c.pos;
    if (!dmaField(c, body)) {
      const eq = c.find('=', keyAt);
      const sp = c.find(' ', keyAt);
      if (eq < 0 || (sp >= 0 && sp < eq)) c.fail('key=value');
      throw c.error(keyAt, `unknown field ${shown(s.slice(keyAt, eq))}`);
    }
    if (!c.atEnd() && s.charCodeAt(c.pos) !== 32) c.fail('a space before the next field');
  }
  return body;
}

/** Fields each dma event must carry (older kernels print fewer, never other ones). */
const DMA_REQUIRED: Record<string, Array<keyof DmaBody>> = {
  dma_map_phys: ['dir', 'dma', 'size', 'phys'], dma_map_page: ['dir', 'dma', 'size', 'phys'],
  dma_map_resource: ['dir', 'dma', 'size', 'phys'],
  dma_unmap_phys: ['dir', 'dma', 'size'], dma_unmap_page: ['dir', 'dma', 'size'], dma_unmap_resource: ['dir', 'dma', 'size'],
  dma_alloc: ['dma', 'size'], dma_alloc_pages: ['dma', 'size'], dma_alloc_sgt_err: ['dma', 'size'],
  dma_alloc_sgt: ['dma', 'size'], dma_free: ['dma', 'size'], dma_free_pages: ['dma', 'size'], dma_free_sgt: ['dma', 'size'],
  dma_map_sg: ['dir', 'dmaAddrs', 'sizes'], dma_map_sg_err: ['dir', 'dmaAddrs'], dma_unmap_sg: ['dir', 'physAddrs'],
  dma_sync_single_for_cpu: ['dir', 'dma', 'size'], dma_sync_single_for_device: ['dir', 'dma', 'size'],
  dma_sync_sg_for_cpu: ['dir', 'dmaAddrs', 'sizes'], dma_sync_sg_for_device: ['dir', 'dmaAddrs', 'sizes'],
};

export const DMA_EVENTS: ReadonlySet<string> = new Set(Object.keys(DMA_REQUIRED));

const FIELD_TEXT: Partial<Record<keyof DmaBody, string>> = {
  dma: 'dma_addr', phys: 'phys_addr', dmaAddrs: 'dma_addrs', physAddrs: 'phys_addrs',
};

/** Bits of the fields DMA_REQUIRED names, per event, and those a body has: one test per event. */
const FIELD_BIT: Partial<Record<keyof DmaBody, number>> = { dir: 1, dma: 2, size: 4, phys: 8, dmaAddrs: 16, sizes: 32, physAddrs: 64 };
const REQUIRED_BITS = new Map(Object.entries(DMA_REQUIRED).map(([name, keys]) => [name, keys.reduce((m, k) => m | FIELD_BIT[k]!, 0)]));
function presentBits(b: DmaBody): number {
  return (b.dir !== undefined ? 1 : 0) | (b.dma !== undefined || b.mappingError ? 2 : 0) | (b.size !== undefined ? 4 : 0) |
    (b.phys !== undefined ? 8 : 0) | (b.dmaAddrs !== undefined ? 16 : 0) | (b.sizes !== undefined ? 32 : 0) | (b.physAddrs !== undefined ? 64 : 0);
}

export function checkDmaBody(name: string, b: DmaBody, at: number): void {
  const need = REQUIRED_BITS.get(name) ?? 0;
  if ((need & ~presentBits(b)) !== 0) missingField(name, b, at);
  if (b.dmaAddrs && b.sizes && name !== 'dma_map_sg_err' && b.dmaAddrs.length !== b.sizes.length) {
    throw new BodyError(at, `${b.dmaAddrs.length} dma_addrs but ${b.sizes.length} sizes`);
  }
}

/** The first required field missing, in DMA_REQUIRED's order. */
function missingField(name: string, b: DmaBody, at: number): void {
  for (const k of DMA_REQUIRED[name] ?? []) {
    if (b[k] === undefined && !(k === 'dma' && b.mappingError)) throw new BodyError(at, `${name} without ${FIELD_TEXT[k] ?? k}=`);
  }
}
