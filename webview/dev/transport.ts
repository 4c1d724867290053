// Carries a host message into the harness page the way the panel's messages arrive: typed-array columns
// included. Playwright's own argument encoding of a 100,000-mapping model takes seconds, so the message goes as
// one string — JSON with every typed array replaced by a reference into one base64 blob — and the page rebuilds
// it and posts it with window.postMessage (structured clone, no transfer: the page pays for receiving it, as it
// does in VS Code). Node side only; the in-page half is the function given to page.evaluate.
import type { Page } from 'playwright-core';
import type { HostToWebview } from '../protocol';

const KINDS = ['Float64Array', 'Int32Array', 'Uint32Array', 'Uint8Array'] as const;
type Kind = (typeof KINDS)[number];
interface Ref { $typed: Kind; at: number; length: number }

/** The message as one string: JSON, each typed array a { $typed, at, length } reference into the base64 tail. */
export function packMessage(msg: HostToWebview): string {
  const parts: Buffer[] = [];
  let at = 0;
  const json = JSON.stringify(msg, (_k, v: unknown) => {
    if (!ArrayBuffer.isView(v)) return v;
    const kind = KINDS.find(k => v.constructor.name === k);
    if (!kind) throw new Error(`packMessage: cannot carry a ${v.constructor.name}`);
    const bytes = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    const pad = (8 - (at % 8)) % 8;     // every slice starts 8-byte aligned, so the page can view it in place
    if (pad) { parts.push(Buffer.alloc(pad)); at += pad; }
    const ref: Ref = { $typed: kind, at, length: (v as unknown as ArrayLike<number>).length };
    parts.push(bytes);
    at += bytes.length;
    return ref;
  });
  return `${json.length}:${json}${Buffer.concat(parts).toString('base64')}`;
}

/**
 * Rebuilds a packed message in the page and posts it to the page's window; resolves when it was posted. Rebuilding
 * and posting are separate tasks: in VS Code the message comes from another frame, so the page is not busy (and
 * has no decoding garbage to collect) the moment it arrives.
 */
export async function postPacked(page: Page, packed: string): Promise<void> {
  await page.evaluate(s => {
    const colon = s.indexOf(':');
    const jsonLength = Number(s.slice(0, colon));
    const json = s.slice(colon + 1, colon + 1 + jsonLength);
    const bin = atob(s.slice(colon + 1 + jsonLength));
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const ctors = { Float64Array, Int32Array, Uint32Array, Uint8Array } as const;
    const msg: unknown = JSON.parse(json, (_k, v: { $typed?: keyof typeof ctors; at: number; length: number }) =>
      (v && typeof v === 'object' && typeof v.$typed === 'string' ? new ctors[v.$typed](bytes.buffer, v.at, v.length).slice() : v));
    (window as unknown as { __iommuLensPending: unknown }).__iommuLensPending = msg;
  }, packed);
  await page.evaluate(() => {
    const w = window as unknown as { __iommuLensPending?: unknown };
    const msg = w.__iommuLensPending;
    delete w.__iommuLensPending;
    window.postMessage(msg, '*');
  });
}

/** Posts a host message the way the panel would. */
export async function postToWebview(page: Page, msg: HostToWebview): Promise<void> {
  await postPacked(page, packMessage(msg));
}
