// Text for the address map: hex addresses as kernel developers read them, byte counts in binary units.
// Pure (no DOM), shared by the webview and the host-side model builder.
import { hex } from '../simulator/core/format';

export { hex };

/** Address zero-padded to `digits` hex digits, grouped like the kernel prints %016llx: 0x00000000ffffc000. */
export function hexAddr(n: number, digits: number): string {
  return '0x' + Math.floor(n).toString(16).padStart(digits, '0');
}

/** Hex digits needed to print every address below `limit` (at least 8, even). */
export function hexDigitsFor(limit: number): number {
  const bits = limit <= 1 ? 1 : Math.ceil(Math.log2(limit));
  const digits = Math.ceil(bits / 4);
  return Math.max(8, digits + (digits % 2));
}

/** Bytes in binary units: 4096 -> "4 KiB", 12288 -> "12 KiB", 1536 -> "1.5 KiB", 100 -> "100 B". */
export function bytesLabel(n: number): string {
  const units: Array<[number, string]> = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
  for (const [u, s] of units) {
    if (n >= u) {
      const v = n / u;
      if (Number.isInteger(v)) return `${v} ${s}`;
      const shown = (v < 10 ? v.toFixed(2) : v.toFixed(1)).replace(/0+$/, '').replace(/\.$/, '');
      // A rounded figure says so: "≈4 GiB" for a hole one page short of 4 GiB.
      return `${Number(shown) * u === n ? '' : '≈'}${shown} ${s}`;
    }
  }
  return `${Math.round(n) === n ? '' : '≈'}${Math.round(n)} B`;
}

/**
 * Parses an address typed by the user: hex ("0xffffc000", "ffffc000h" is not accepted), decimal,
 * or a size with a binary suffix ("16K", "2M"). Returns an error naming the value when it is not
 * an exact non-negative integer below 2^53.
 */
export function parseAddress(text: string): number | { error: string } {
  const s = text.trim().replace(/_/g, '');
  if (s === '') return { error: 'enter an IOVA, for example 0xffffc000' };
  let v: number;
  const suffix = /^(\d+)([KMGT])$/i.exec(s);
  if (/^0x[0-9a-f]+$/i.test(s)) v = parseInt(s.slice(2), 16);
  else if (/^\d+$/.test(s)) v = parseInt(s, 10);
  else if (suffix) v = parseInt(suffix[1], 10) * 2 ** (10 * ('KMGT'.indexOf(suffix[2].toUpperCase()) + 1));
  else return { error: `"${text.trim()}" is not an address (use hex like 0xffffc000, decimal, or 16K)` };
  if (!Number.isSafeInteger(v)) return { error: `"${text.trim()}" is too large to represent exactly (limit 2^53 - 1)` };
  return v;
}
