// Tracepoint bodies parsed back into values: the exact inverse of tracepoints.ts (and of the kernel's
// TP_printk formats, including the older map/unmap bodies without the ` - END` range). Parsers scan left to
// right with a cursor, never backtrack, and report the 1-based column where the text stops matching.

/** A line the importer could not use: where and why. */
export class BodyError extends Error {
  constructor(readonly offset: number, message: string) { super(message); }
}

const MAX_HEX_DIGITS = 16;           // u64
const MAX_DEC_DIGITS = 20;           // size_t

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Quotes a piece of the line for a message, shortened. */
function shown(s: string): string {
  if (s.length === 0) return 'end of line';
  return JSON.stringify(s.length > 24 ? s.slice(0, 24) + '…' : s);
}

export class Cursor {
  pos: number;
  constructor(public s: string, pos = 0) { this.pos = pos; }

  /** Reuses the cursor for another body (one cursor serves a whole import). */
  reset(s: string): this {
    this.s = s;
    this.pos = 0;
    return this;
  }

  fail(what: string, at = this.pos): never {
    throw new BodyError(at, `expected ${what}, found ${shown(this.s.slice(at, at + 24))}`);
  }
  lit(text: string): void {
    if (!this.s.startsWith(text, this.pos)) this.fail(JSON.stringify(text));
    this.pos += text.length;
  }
  tryLit(text: string): boolean {
    if (!this.s.startsWith(text, this.pos)) return false;
    this.pos += text.length;
    return true;
  }
  atEnd(): boolean { return this.pos >= this.s.length; }
  end(): void {
    if (!this.atEnd()) this.fail('end of line');
  }
  /** Hex digits (no prefix) as an exact number; `field` names the value in messages. */
  hex(field: string): number {
    const s = this.s;
    const start = this.pos;
    let i = start;
    let v = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const d = c <= 57 ? c - 48 : (c | 32) - 87;         // '0'-'9', 'a'-'f' / 'A'-'F'
      if (d < 0 || d > 15 || (c > 57 && c < 65)) break;
      v = v * 16 + d;                                      // exact while v stays below 2^53
    }
    if (i === start) this.fail(`hex digits for ${field}`);
    if (i - start > MAX_HEX_DIGITS) throw new BodyError(start, `${field} has more than ${MAX_HEX_DIGITS} hex digits`);
    this.pos = i;
    return v > Number.MAX_SAFE_INTEGER ? exact(v, field, '0x' + s.slice(start, i), start) : v;
  }
  /** Unsigned decimal. */
  dec(field: string): number {
    const s = this.s;
    const start = this.pos;
    let i = start;
    let v = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
    }
    if (i === start) this.fail(`a decimal number for ${field}`);
    if (i - start > MAX_DEC_DIGITS) throw new BodyError(start, `${field} has more than ${MAX_DEC_DIGITS} digits`);
    this.pos = i;
    return v > Number.MAX_SAFE_INTEGER ? exact(v, field, s.slice(start, i), start) : v;
  }
  /** Signed decimal (%d). */
  int(field: string): number {
    const neg = this.tryLit('-');
    const v = this.dec(field);
    return neg ? -v : v;
  }
  /** Text up to (not including) the next space or the end. */
  word(): string {
    const start = this.pos;
    let i = this.s.indexOf(' ', start);
    if (i < 0) i = this.s.length;
    this.pos = i;
    return this.s.slice(start, i);
  }
  rest(): string {
    const r = this.s.slice(this.pos);
    this.pos = this.s.length;
    return r;
  }
}

/**
 * The simulator's addresses are JS numbers: a value at or above 2^53 cannot be held exactly, so the line
 * is refused rather than rounded.
 */
function exact(v: number, field: string, text: string, at: number): number {
  // once the running value passes 2^53 it only grows (rounding is monotonic), so this test is exact
  if (v > Number.MAX_SAFE_INTEGER) {
    throw new BodyError(at, `${field}=${text} is 2^53 or more and cannot be represented exactly (line not imported)`);
  }
  return v;
}

export interface GroupBody { group: number; dev: string }
export interface DeviceBody { dev: string }
export interface MapBody { iova: number; paddr: number; size: number }
export interface UnmapBody { iova: number; size: number; unmapped: number }
export interface FaultBody { driver: string; dev: string; iova: number; flags: number }

/** `IOMMU: groupID=%d device=%s` */
export function parseGroupBody(c: Cursor): GroupBody {
  c.lit('IOMMU: groupID=');
  const group = c.int('groupID');
  c.lit(' device=');
  const dev = c.rest();
  if (!dev) c.fail('a device name');
  return { group, dev };
}

/** `IOMMU: device=%s` */
export function parseDeviceBody(c: Cursor): DeviceBody {
  c.lit('IOMMU: device=');
  const dev = c.rest();
  if (!dev) c.fail('a device name');
  return { dev };
}

/** The ` - 0x%016llx` range end printed since 6.x (-1: absent) must equal iova + size. */
function checkEnd(end: number, at: number, iova: number, size: number): void {
  if (end >= 0 && end !== iova + size) {
    throw new BodyError(at, `range end 0x${end.toString(16)} is not iova + size (0x${(iova + size).toString(16)})`);
  }
}

/** `IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=%zu` (before 6.x without ` - END`). */
export function parseMapBody(c: Cursor, out: MapBody = { iova: 0, paddr: 0, size: 0 }): MapBody {
  c.lit('IOMMU: iova=0x');
  const iova = c.hex('iova');
  const endAt = c.pos + 5;
  const end = c.tryLit(' - 0x') ? c.hex('iova end') : -1;
  c.lit(' paddr=0x');
  const paddr = c.hex('paddr');
  c.lit(' size=');
  const size = c.dec('size');
  c.end();
  checkEnd(end, endAt, iova, size);
  out.iova = iova;
  out.paddr = paddr;
  out.size = size;
  return out;
}

/** `IOMMU: iova=0x%016llx - 0x%016llx size=%zu unmapped_size=%zu` (before 6.x without ` - END`). */
export function parseUnmapBody(c: Cursor, out: UnmapBody = { iova: 0, size: 0, unmapped: 0 }): UnmapBody {
  c.lit('IOMMU: iova=0x');
  const iova = c.hex('iova');
  const endAt = c.pos + 5;
  const end = c.tryLit(' - 0x') ? c.hex('iova end') : -1;
  c.lit(' size=');
  const size = c.dec('size');
  c.lit(' unmapped_size=');
  const unmapped = c.dec('unmapped_size');
  c.end();
  checkEnd(end, endAt, iova, size);
  out.iova = iova;
  out.size = size;
  out.unmapped = unmapped;
  return out;
}

/** `IOMMU:%s %s iova=0x%016llx flags=0x%04x` (driver, device; the driver string may be empty). */
export function parseFaultBody(c: Cursor): FaultBody {
  c.lit('IOMMU:');
  const start = c.pos;
  const at = c.s.indexOf(' iova=0x', start);
  if (at < 0) c.fail('"DRIVER DEVICE iova=0x…"');
  const head = c.s.slice(start, at);
  const sp = head.indexOf(' ');
  if (sp < 0 || sp === head.length - 1) c.fail('"DRIVER DEVICE" before iova=');
  c.pos = at;
  c.lit(' iova=0x');
  const iova = c.hex('iova');
  c.lit(' flags=0x');
  const flags = c.hex('flags');
  c.end();
  return { driver: head.slice(0, sp), dev: head.slice(sp + 1), iova, flags };
}

/** Fields of the dma tracepoints (include/trace/events/dma.h); which ones appear depends on the event. */
export interface DmaBody {
  dev: string;
  dir?: string;
  dma?: number;                        // dma_addr=%llx
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

/**
 * `DEVICE key=value key=value …`. The device name is everything before the first known key; values hold
 * no spaces (attrs and flags may be empty). ` [TRUNCATED]` may follow the ents= pair of dma_map_sg.
 */
/** A DmaBody with every field present (one object shape); pass it back to parseDmaBody to reuse it. */
export function emptyDmaBody(): DmaBody {
  return {
    dev: '', dir: undefined, dma: undefined, size: undefined, phys: undefined, virt: undefined, flags: undefined,
    attrs: undefined, nents: undefined, ents: undefined, truncated: undefined, dmaAddrs: undefined, sizes: undefined,
    physAddrs: undefined, err: undefined, mappingError: undefined,
  };
}

function clear(b: DmaBody): void {
  b.dir = b.dma = b.size = b.phys = b.virt = b.flags = b.attrs = b.nents = b.ents = undefined;
  b.truncated = b.dmaAddrs = b.sizes = b.physAddrs = b.err = b.mappingError = undefined;
}

/** decode_dma_data_direction's names, so the common ones cost no new string. */
const DIRECTIONS = ['BIDIRECTIONAL', 'TO_DEVICE', 'FROM_DEVICE', 'NONE'];
function direction(c: Cursor): string {
  for (const d of DIRECTIONS) {
    const end = c.pos + d.length;
    if (c.s.startsWith(d, c.pos) && (end === c.s.length || c.s.charCodeAt(end) === 32)) {
      c.pos = end;
      return d;
    }
  }
  return c.word();
}

/** Parses into `body` (cleared first), which may be reused from call to call. */
export function parseDmaBody(c: Cursor, body: DmaBody = emptyDmaBody()): DmaBody {
  const s = c.s;
  let devEnd = -1;
  for (let sp = s.indexOf(' ', c.pos); sp > c.pos && devEnd < 0; sp = s.indexOf(' ', sp + 1)) {
    for (const k of DMA_FIRST_KEYS) if (s.startsWith(k, sp + 1)) { devEnd = sp; break; }
  }
  if (devEnd < 0) c.fail('"DEVICE dir=…"');
  clear(body);
  body.dev = s.slice(c.pos, devEnd);
  c.pos = devEnd;
  while (!c.atEnd()) {
    c.lit(' ');
    const keyAt = c.pos;
    if (c.tryLit('dir=')) body.dir = direction(c);
    else if (c.tryLit('dma_addr=')) {
      if (s.startsWith(DMA_MAPPING_ERROR_TEXT, c.pos) && !isHex(s.charCodeAt(c.pos + 16))) {
        c.pos += 16;
        body.mappingError = true;
      } else body.dma = c.hex('dma_addr');
    } else if (c.tryLit('size=')) body.size = c.dec('size');
    else if (c.tryLit('phys_addr=')) body.phys = c.hex('phys_addr');
    else if (c.tryLit('attrs=')) body.attrs = c.word();
    else if (c.tryLit('virt_addr=')) body.virt = c.word();
    else if (c.tryLit('flags=')) body.flags = c.word();
    else if (c.tryLit('nents=')) body.nents = pair(c, 'nents');
    else if (c.tryLit('ents=')) body.ents = pair(c, 'ents');
    else if (c.tryLit('[TRUNCATED]')) body.truncated = true;
    // dma_map_sg_err prints the physical addresses under the name dma_addrs; callers sort that out.
    else if (c.tryLit('dma_addrs=')) body.dmaAddrs = parseArray(c, 'dma_addrs');
    else if (c.tryLit('sizes=')) body.sizes = parseArray(c, 'sizes');
    else if (c.tryLit('phys_addrs=')) body.physAddrs = parseArray(c, 'phys_addrs');
    else if (c.tryLit('err=')) body.err = c.int('err');
    else {
      const eq = s.indexOf('=', keyAt);
      const sp = s.indexOf(' ', keyAt);
      if (eq < 0 || (sp >= 0 && sp < eq)) c.fail('key=value');
      throw new BodyError(keyAt, `unknown field ${shown(s.slice(keyAt, eq))}`);
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

export function checkDmaBody(name: string, b: DmaBody, at: number): void {
  for (const k of DMA_REQUIRED[name] ?? []) {
    if (b[k] === undefined && !(k === 'dma' && b.mappingError)) throw new BodyError(at, `${name} without ${FIELD_TEXT[k] ?? k}=`);
  }
  if (b.dmaAddrs && b.sizes && name !== 'dma_map_sg_err' && b.dmaAddrs.length !== b.sizes.length) {
    throw new BodyError(at, `${b.dmaAddrs.length} dma_addrs but ${b.sizes.length} sizes`);
  }
}
