// The address-map panel's decisions that need no vscode API: which domain to show, what a tree focus means
// for the map, what a click reveals in the tree, and how a page-table walk becomes a `walk` message.
// Unit-tested in test/unit/map-host.test.ts.
import type { Report } from '../../simulator/report/types';
import type { HostToWebview, MapFocusRange, RevealTarget, WalkLevel } from '../../webview/protocol';
import { defaultDomainId } from '../../webview/model';

/** `iommuLens.showMap` argument (the tree's MapFocus): every field optional, addresses as hex strings. */
export interface MapFocusArg {
  domain?: string;
  iova?: string;
  paddr?: string;
  dev?: string;
}

/** What the tree's revealInTree accepts (a TouchedItem without the required step/op). */
export interface TreeRevealArg {
  step?: number;
  dev?: string;
  domain?: string;
  iova?: string;
  paddr?: string;
  size?: number;
  faultIndex?: number;
}

const hexValue = (s: unknown): number | undefined =>
  typeof s === 'string' && /^0x[0-9a-f]{1,13}$/i.test(s) ? parseInt(s.slice(2), 16) : undefined;

/** Domain to show: the one asked for if it exists, else the last-touched step's, else the busiest. */
export function chooseDomain(report: Report | undefined, wanted: Array<string | null | undefined>): string | null {
  if (!report) return null;
  for (const w of wanted) if (w && report.domains.some(d => d.id === w)) return w;
  return defaultDomainId(report);
}

/** Turns a showMap argument into the domain and range to look at; null when it names nothing usable. */
export function focusFromArg(report: Report | undefined, arg: unknown): { domainId: string | null; focus: MapFocusRange } | null {
  if (typeof arg !== 'object' || arg === null) return null;
  const a = arg as MapFocusArg;
  let domainId = typeof a.domain === 'string' ? a.domain : null;
  if (!domainId && typeof a.dev === 'string') domainId = report?.devices.find(d => d.name === a.dev)?.domain ?? null;
  const focus: MapFocusRange = {};
  const iova = hexValue(a.iova);
  const paddr = hexValue(a.paddr);
  if (iova !== undefined) focus.iova = iova;
  if (paddr !== undefined) focus.paddr = paddr;
  if (domainId === null && iova === undefined && paddr === undefined) return null;
  return { domainId, focus };
}

/** A click on the map as the tree's reveal argument. Faults are found by step and IOVA in report.faults. */
export function treeRevealArg(report: Report | undefined, t: RevealTarget): TreeRevealArg {
  const out: TreeRevealArg = { domain: t.domain };
  if (t.step !== undefined) out.step = t.step;
  if (t.dev !== undefined) out.dev = t.dev;
  if (t.iova !== undefined) out.iova = t.iova;
  if (t.paddr !== undefined) out.paddr = t.paddr;
  if (t.size !== undefined) out.size = t.size;
  if (t.kind === 'fault' && report) {
    const i = report.faults.findIndex(f => f.step === t.step && hexValue(f.iova) === hexValue(t.iova));
    if (i >= 0) out.faultIndex = i;
  }
  return out;
}

const OUTCOMES = ['table', 'leaf', 'invalid'] as const;

/**
 * The session's walk result as a `walk` message. `walk` is Session.walk when the simulator provides it;
 * a missing function, a thrown error, an empty walk or a malformed level becomes an error the panel shows.
 */
export function walkMessage(walk: ((domainId: string, iova: number) => unknown) | undefined, domainId: string,
                            iova: number, domainType?: string): HostToWebview {
  const error = (e: string): HostToWebview => ({ type: 'walk', domainId, iova, error: e });
  if (!walk) return error('This build of the simulator cannot walk page tables (Session.walk is missing).');
  let raw: unknown;
  try {
    raw = walk(domainId, iova);
  } catch (e) {
    return error(`Walking ${domainId} at 0x${iova.toString(16)} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(raw)) return error(`Session.walk returned ${typeof raw}, not a list of levels.`);
  if (raw.length === 0) {
    return error(`Domain ${domainId}${domainType ? ` (${domainType})` : ''} has no page table to walk` +
      (domainType === 'IDENTITY' || domainType === 'BLOCKED' ? ': it does not translate.' : ' (not finalized, or not a paging domain).'));
  }
  const levels: WalkLevel[] = [];
  for (const [k, l] of raw.entries()) {
    const o = (l ?? {}) as Record<string, unknown>;
    const table = typeof o.table === 'number' ? o.table : hexValue(o.table);
    const outcome = OUTCOMES.find(x => x === o.outcome);
    if (!Number.isInteger(o.level) || !Number.isInteger(o.index) || table === undefined || typeof o.raw !== 'string' || !outcome) {
      return error(`Session.walk level ${k} is malformed: ${JSON.stringify(l)}`);
    }
    levels.push({ level: o.level as number, index: o.index as number, table, raw: o.raw, outcome });
  }
  return { type: 'walk', domainId, iova, levels };
}
