// Tracepoint bodies parsed back into values: the exact inverse of tracepoints.ts (and of the kernel's
// TP_printk formats, including the older map/unmap bodies without the ` - END` range). Parsers scan left to
// right with a cursor, never backtrack, and report the 1-based column where the text stops matching.
// This file: the cursor and the iommu events' bodies; import-dma-body.ts: the dma events'.

/** A line the importer could not use: where and why. */
export class BodyError extends Error {
  constructor(readonly offset: number, message: string) { super(message); }
}

const MAX_HEX_DIGITS = 16;           // u64
const MAX_DEC_DIGITS = 20;           // size_t

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Quotes a piece of the line for a message, shortened. */
export function shown(s: string): string {
  if (s.length === 0) return 'end of line';
  return JSON.stringify(s.length > 24 ? s.slice(0, 24) + '…' : s);
}

/**
 * Reads one body: s[base, stop). The importer hands it the whole trace text with the line's bounds, so no
 * string is cut per line; tests hand it a body string alone. Offsets in errors count from `base`.
 */
export class Cursor {
  pos: number;
  base: number;
  stop: number;
  constructor(public s: string, pos = 0, stop = s.length) { this.pos = this.base = pos; this.stop = stop; }

  /** Reuses the cursor for another body (one cursor serves a whole import). */
  reset(s: string, from = 0, to = s.length): this {
    this.s = s;
    this.pos = this.base = from;
    this.stop = to;
    return this;
  }

  /** An error at s[at], its offset counted from the start of the body. */
  error(at: number, message: string): BodyError {
    return new BodyError(at - this.base, message);
  }
  fail(what: string, at = this.pos): never {
    throw this.error(at, `expected ${what}, found ${shown(this.s.slice(at, Math.min(at + 24, this.stop)))}`);
  }
  // Literals never hold a line break, and s[stop] is one (or s ends there): a match cannot run past the body.
  lit(text: string): void {
    if (!this.at(text)) this.fail(JSON.stringify(text));
    this.pos += text.length;
  }
  tryLit(text: string): boolean {
    if (!this.at(text)) return false;
    this.pos += text.length;
    return true;
  }
  atEnd(): boolean { return this.pos >= this.stop; }
  /** The character code at the cursor (NaN at the end of the body). */
  peek(): number { return this.pos < this.stop ? this.s.charCodeAt(this.pos) : NaN; }
  /** Whether `text` comes next (a character loop: the literals are short, and startsWith is a call). */
  at(text: string): boolean {
    const s = this.s;
    const p = this.pos;
    if (p + text.length > s.length) return false;
    for (let k = 0; k < text.length; k++) if (s.charCodeAt(p + k) !== text.charCodeAt(k)) return false;
    return true;
  }
  /** Index of `text` in s[from, stop), or -1 (the search never leaves the body). */
  find(text: string, from = this.pos): number {
    const i = this.s.slice(from, this.stop).indexOf(text);
    return i < 0 ? -1 : from + i;
  }
  end(): void {
    if (!this.atEnd()) this.fail('end of line');
  }
  /** Hex digits (no prefix) as an exact number; `field` names the value in messages. */
  hex(field: string): number {
    const s = this.s;
    const start = this.pos;
    const stop = this.stop;
    let i = start;
    let v = 0;
    for (; i < stop; i++) {
      const c = s.charCodeAt(i);
      const d = c <= 57 ? c - 48 : (c | 32) - 87;         // '0'-'9', 'a'-'f' / 'A'-'F'
      if (d < 0 || d > 15 || (c > 57 && c < 65)) break;
      v = v * 16 + d;                                      // exact while v stays below 2^53
    }
    if (i === start) this.fail(`hex digits for ${field}`);
    if (i - start > MAX_HEX_DIGITS) throw this.error(start, `${field} has more than ${MAX_HEX_DIGITS} hex digits`);
    this.pos = i;
    return v > Number.MAX_SAFE_INTEGER ? exact(v, field, '0x' + s.slice(start, i), start - this.base) : v;
  }
  /** Unsigned decimal. */
  dec(field: string): number {
    const s = this.s;
    const start = this.pos;
    const stop = this.stop;
    let i = start;
    let v = 0;
    for (; i < stop; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
    }
    if (i === start) this.fail(`a decimal number for ${field}`);
    if (i - start > MAX_DEC_DIGITS) throw this.error(start, `${field} has more than ${MAX_DEC_DIGITS} digits`);
    this.pos = i;
    return v > Number.MAX_SAFE_INTEGER ? exact(v, field, s.slice(start, i), start - this.base) : v;
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
    if (i < 0 || i > this.stop) i = this.stop;
    this.pos = i;
    return this.s.slice(start, i);
  }
  rest(): string {
    const r = this.s.slice(this.pos, this.stop);
    this.pos = this.stop;
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
function checkEnd(c: Cursor, end: number, at: number, iova: number, size: number): void {
  if (end >= 0 && end !== iova + size) {
    throw c.error(at, `range end 0x${end.toString(16)} is not iova + size (0x${(iova + size).toString(16)})`);
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
  checkEnd(c, end, endAt, iova, size);
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
  checkEnd(c, end, endAt, iova, size);
  out.iova = iova;
  out.size = size;
  out.unmapped = unmapped;
  return out;
}

/** `IOMMU:%s %s iova=0x%016llx flags=0x%04x` (driver, device; the driver string may be empty). */
export function parseFaultBody(c: Cursor): FaultBody {
  c.lit('IOMMU:');
  const start = c.pos;
  const at = c.find(' iova=0x', start);
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
