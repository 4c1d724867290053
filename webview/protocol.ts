// The one message protocol between the address-map panel (extension host) and its webview. Both sides
// import these types; the host runs validateWebviewMessage on everything the webview posts, because a
// webview is a browser page and its messages are untrusted input, and the webview runs validateHostMessage
// (hostMessage.ts) on everything it receives. A snapshot's model is typed-array columns (modelTypes.ts), which
// VS Code's postMessage carries as buffers beside the JSON.
import type { MapModel } from './modelTypes';
import { Invalid, addr, fail, finite, hexStr, id, isObj, nullable, obj, opt, positive, str, type Check } from './check';

/** What the webview remembers across reloads (vscode.setState) and hands to the panel serializer. */
export interface MapViewState {
  domainId: string | null;
  /** IOVA band viewport: address at the left edge and bytes across the plot */
  iova: { start: number; span: number } | null;
  /** physical band viewport; follow = fit the physical ranges the visible IOVA mappings reach */
  phys: { start: number; span: number; follow: boolean } | null;
  colorBy: 'buffer' | 'device';
  walkAddress: string;
}

/** One level of a page-table walk, top level first. */
export interface WalkLevel {
  level: number;
  index: number;
  /** physical address of the table that was read */
  table: number;
  /** raw descriptor, hex */
  raw: string;
  outcome: 'table' | 'leaf' | 'invalid';
}

/** Where the map should look after `selectDomain` (from the tree or `iommuLens.showMap` arguments). */
export interface MapFocusRange {
  iova?: number;
  paddr?: number;
  size?: number;
}

export type HostToWebview =
  | { type: 'snapshot'; model: MapModel }
  | { type: 'selectDomain'; domainId: string; focus?: MapFocusRange }
  | { type: 'walk'; domainId: string; iova: number; levels: WalkLevel[]; error?: undefined }
  | { type: 'walk'; domainId: string; iova: number; levels?: undefined; error: string };

/** What a click on the map asks the tree to reveal; addresses are hex strings as in the report. */
export interface RevealTarget {
  kind: 'mapping' | 'fault' | 'buffer' | 'domain';
  domain: string;
  iova?: string;
  paddr?: string;
  size?: number;
  step?: number;
  id?: string;
  dev?: string;
}

export type WebviewToHost =
  | { type: 'ready'; state: MapViewState | null }
  | { type: 'selectDomain'; domainId: string }
  | { type: 'reveal'; target: RevealTarget }
  | { type: 'goToSource'; site: string }
  | { type: 'requestWalk'; domainId: string; iova: number }
  | { type: 'stateChanged'; state: MapViewState };

export const validateMapViewState: Check<MapViewState> = (v, p) => {
  const o = obj(v, p, ['domainId', 'iova', 'phys', 'colorBy', 'walkAddress']);
  const iova = nullable((x, q) => {
    const r = obj(x, q, ['start', 'span']);
    return { start: finite(r.start, `${q}.start`), span: positive(r.span, `${q}.span`) };
  })(o.iova, `${p}.iova`);
  const phys = nullable((x, q) => {
    const r = obj(x, q, ['start', 'span', 'follow']);
    if (typeof r.follow !== 'boolean') fail(`${q}.follow`, r.follow, 'true or false');
    return { start: finite(r.start, `${q}.start`), span: positive(r.span, `${q}.span`), follow: r.follow };
  })(o.phys, `${p}.phys`);
  if (o.colorBy !== 'buffer' && o.colorBy !== 'device') fail(`${p}.colorBy`, o.colorBy, '"buffer" or "device"');
  return { domainId: nullable(id)(o.domainId, `${p}.domainId`), iova: iova ?? null, phys: phys ?? null, colorBy: o.colorBy,
    walkAddress: str(o.walkAddress, `${p}.walkAddress`).slice(0, 64) };
};

const REVEAL_KINDS = ['mapping', 'fault', 'buffer', 'domain'] as const;

function revealTarget(v: unknown, p: string): RevealTarget {
  const o = obj(v, p, ['kind', 'domain', 'iova', 'paddr', 'size', 'step', 'id', 'dev']);
  const kind = REVEAL_KINDS.find(k => k === o.kind) ?? fail(`${p}.kind`, o.kind, REVEAL_KINDS.join(' | '));
  const t: RevealTarget = { kind, domain: id(o.domain, `${p}.domain`) };
  const iova = opt(hexStr)(o.iova, `${p}.iova`);
  const paddr = opt(hexStr)(o.paddr, `${p}.paddr`);
  const size = opt(addr)(o.size, `${p}.size`);
  const step = opt(addr)(o.step, `${p}.step`);
  const rid = opt(str)(o.id, `${p}.id`);
  const dev = opt(str)(o.dev, `${p}.dev`);
  if (iova !== undefined) t.iova = iova;
  if (paddr !== undefined) t.paddr = paddr;
  if (size !== undefined) t.size = size;
  if (step !== undefined) t.step = step;
  if (rid !== undefined) t.id = rid;
  if (dev !== undefined) t.dev = dev;
  return t;
}

/** Checks a message from the webview. Returns it typed, or an error naming the bad field and value. */
export function validateWebviewMessage(x: unknown): WebviewToHost | { error: string } {
  try {
    if (!isObj(x)) fail('message', x, 'an object');
    switch (x.type) {
      case 'ready': {
        const o = obj(x, 'ready', ['type', 'state']);
        return { type: 'ready', state: nullable(validateMapViewState)(o.state ?? null, 'ready.state') };
      }
      case 'selectDomain': {
        const o = obj(x, 'selectDomain', ['type', 'domainId']);
        return { type: 'selectDomain', domainId: id(o.domainId, 'selectDomain.domainId') };
      }
      case 'reveal': {
        const o = obj(x, 'reveal', ['type', 'target']);
        return { type: 'reveal', target: revealTarget(o.target, 'reveal.target') };
      }
      case 'goToSource': {
        const o = obj(x, 'goToSource', ['type', 'site']);
        const site = str(o.site, 'goToSource.site');
        // The scenario's site forms: FILE.c:FUNCTION, FILE.c:LINE, FILE.c:FUNCTION:LINE.
        if (!/^[^\s:]+:(?:[A-Za-z_]\w*(?::\d+)?|\d+)$/.test(site)) {
          fail('goToSource.site', site, '"FILE.c:FUNCTION", "FILE.c:LINE" or "FILE.c:FUNCTION:LINE"');
        }
        return { type: 'goToSource', site };
      }
      case 'requestWalk': {
        const o = obj(x, 'requestWalk', ['type', 'domainId', 'iova']);
        return { type: 'requestWalk', domainId: id(o.domainId, 'requestWalk.domainId'), iova: addr(o.iova, 'requestWalk.iova') };
      }
      case 'stateChanged': {
        const o = obj(x, 'stateChanged', ['type', 'state']);
        return { type: 'stateChanged', state: validateMapViewState(o.state, 'stateChanged.state') };
      }
      default:
        return fail('message.type', x.type, 'ready | selectDomain | reveal | goToSource | requestWalk | stateChanged');
    }
  } catch (e) {
    if (e instanceof Invalid) return { error: e.message };
    throw e;
  }
}
