// Number formatting shared by reports, traces and views. Addresses are JS numbers kept below 2^53
// (the loader refuses anything larger), so arithmetic stays exact; bit operations must not use the
// 32-bit JS operators on them.

export const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/** Lowercase hex with 0x prefix: 0xffffc000. */
export function hex(n: number): string {
  return n < 0 ? '-0x' + (-n).toString(16) : '0x' + n.toString(16);
}

/** Zero-padded hex without prefix, as %016llx or %08x print. */
export function hexPad(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** 16384 -> "16K", 2097152 -> "2M"; exact only, otherwise hex. */
export function sizeLabel(n: number): string {
  const units: Array<[number, string]> = [[2 ** 40, 'T'], [2 ** 30, 'G'], [2 ** 20, 'M'], [2 ** 10, 'K']];
  for (const [u, s] of units) if (n >= u && n % u === 0) return `${n / u}${s}`;
  return n < 1024 ? `${n}` : hex(n);
}

export function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

export function log2(n: number): number {
  return Math.log2(n);
}

/** Alignment of an address: largest power of two dividing it (Infinity for 0). */
export function alignmentOf(n: number): number {
  if (n === 0) return Infinity;
  let a = 1;
  while (n % (a * 2) === 0) a *= 2;
  return a;
}

export function alignDown(n: number, a: number): number {
  return n - (n % a);
}

export function alignUp(n: number, a: number): number {
  const r = n % a;
  return r === 0 ? n : n + (a - r);
}

export function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Linux get_order(): smallest order with (PAGE_SIZE << order) >= size. */
export function getOrder(size: number, pageSize: number): number {
  let order = 0;
  while (pageSize * 2 ** order < size) order++;
  return order;
}
