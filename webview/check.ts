// Validation primitives shared by both directions of the map protocol (protocol.ts: what the webview posts to the
// host; hostMessage.ts: what the host posts to the webview). A failed check throws Invalid with the path of the
// offending field and a short rendering of its value; the validators turn that into { error }.

export type Obj = Record<string, unknown>;
export type Check<T> = (v: unknown, path: string) => T;

export class Invalid extends Error {}

/** A value as an error message shows it: JSON, cut to 60 characters; typed arrays by type and length. */
export function shown(v: unknown): string {
  let s: string;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name} of ${(v as unknown as ArrayLike<unknown>).length ?? v.byteLength} elements`;
  // structured clone delivers BigInts and cycles too: neither may turn the message into [object Object]
  try { s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : ArrayBuffer.isView(x) ? shown(x) : x)) ?? String(v); } catch { s = Array.isArray(v) ? 'a list' : typeof v; }
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

export function fail(path: string, v: unknown, want: string): never {
  throw new Invalid(`${path}: expected ${want}, got ${shown(v)}`);
}

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

export function obj(v: unknown, path: string, keys: readonly string[]): Obj {
  if (!isObj(v)) fail(path, v, 'an object');
  for (const k of Object.keys(v)) if (!keys.includes(k)) fail(`${path}.${k}`, v[k], `no such field (allowed: ${keys.join(', ')})`);
  return v;
}

export function list<T>(v: unknown, path: string, item: Check<T>): T[] {
  if (!Array.isArray(v)) fail(path, v, 'a list');
  const out: T[] = [];
  for (let i = 0; i < v.length; i++) out.push(item(v[i], `${path}[${i}]`));
  return out;
}

export const str: Check<string> = (v, p) => (typeof v === 'string' && v.length <= 4096 ? v : fail(p, v, 'a string'));
/** A longer text from the host (a scenario name, a fault message, a problem). */
export const text: Check<string> = (v, p) => (typeof v === 'string' && v.length <= 65536 ? v : fail(p, v, 'a string'));
export const id: Check<string> = (v, p) => (typeof v === 'string' && /^[\w.:@/-]{1,128}$/.test(v) ? v : fail(p, v, 'an identifier'));
export const addr: Check<number> = (v, p) => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : fail(p, v, 'an address (integer 0..2^53-1)'));
/** An integer >= -1 (-1: unknown), as step numbers and table indexes are. */
export const index: Check<number> = (v, p) => (Number.isSafeInteger(v) && (v as number) >= -1 ? (v as number) : fail(p, v, 'an integer >= -1'));
export const natural: Check<number> = (v, p) => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : fail(p, v, 'an integer >= 0'));
export const count: Check<number> = (v, p) => (Number.isSafeInteger(v) && (v as number) >= 1 ? (v as number) : fail(p, v, 'a positive integer'));
export const finite: Check<number> = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? v : fail(p, v, 'a finite number'));
export const positive: Check<number> = (v, p) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fail(p, v, 'a positive number'));
export const hexStr: Check<string> = (v, p) => (typeof v === 'string' && /^0x[0-9a-f]{1,14}$/.test(v) ? v : fail(p, v, 'a lowercase hex address'));
export const opt = <T>(c: Check<T>): Check<T | undefined> => (v, p) => (v === undefined ? undefined : c(v, p));
export const nullable = <T>(c: Check<T>): Check<T | null> => (v, p) => (v === null ? null : c(v, p));
