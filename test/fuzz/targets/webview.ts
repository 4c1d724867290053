// Fuzz targets for what crosses the address map's message boundary and the settings: messages posted by the
// webview (a browser page: untrusted) to the extension host, messages the host posts to the webview (snapshots
// with typed-array columns, checked on arrival by webview/hostMessage.ts), and the iommuLens.* settings
// (settings.json can hold any JSON). Used by test/fuzz/webview.fuzz.test.ts.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateWebviewMessage } from '../../../webview/protocol';
import { hostMessage } from './webviewHost';
import { kernelOverrides, maxStepsOf, type SettingsValues } from '../../../extension/settingsModel';
import { UserError } from '../../../extension/userError';
import type { FuzzTarget } from '../child';
import { assertReadable } from '../gen/outcome';

const STATE = { domainId: 'd1', iova: { start: 0, span: 2 ** 32 }, phys: { start: 0x800000000, span: 2 ** 30, follow: true }, colorBy: 'buffer', walkAddress: '0xffffc000' };
const VALID: unknown[] = [
  { type: 'ready', state: null }, { type: 'ready', state: STATE }, { type: 'selectDomain', domainId: 'd1' },
  { type: 'reveal', target: { kind: 'mapping', domain: 'd1', iova: '0xffffc000', paddr: '0x800004000', size: 16384, step: 2, dev: 'xhci' } },
  { type: 'goToSource', site: 'drivers/usb/host/xhci-ring.c:xhci_queue_bulk_tx' }, { type: 'goToSource', site: 'apu_gem.c:42' },
  { type: 'requestWalk', domainId: 'd1', iova: 0xffffc000 }, { type: 'stateChanged', state: STATE },
];
const ODD_VALUES: unknown[] = [null, undefined, 0, -1, 2 ** 53, -0, NaN, Infinity, 1e308, '', 'x'.repeat(5000), '0XFF', '0x', 'javascript:alert(1)',
  '../../../etc/passwd', 'file:///etc/passwd', 'd1; rm -rf /', '<script>', '\u202e', '\ud800', true, [], {}, [1, 2], { __proto__: null },
  JSON.parse('{"__proto__": {"polluted": 1}}'), 10n, new Date(0), new Map([[1, 2]]), new Uint8Array(3), /x/];

/** Replace one field (at any depth) of a valid message by an odd value, or drop it, or add one. */
function mutateMessage(m: unknown, path: number[], value: unknown, how: number): unknown {
  const copy = structuredClone(m) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const step of path) {
    const keys = Object.keys(node);
    if (!keys.length) break;
    const k = keys[step % keys.length];
    const next = node[k];
    if (next === null || typeof next !== 'object' || how % 3 === 0) {
      if (how % 4 === 1) delete node[k]; else if (how % 4 === 2) node[`${k}_extra`] = value; else node[k] = value;
      return copy;
    }
    node = next as Record<string, unknown>;
  }
  node.type = value;
  return copy;
}

/** A value as structured clone hands it to the host: cycles and odd types included. */
const cyclic = fc.constant(null).map(() => { const o: Record<string, unknown> = { type: 'ready' }; o.state = o; return o; });
const messageArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...VALID) },
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...VALID), fc.array(fc.nat(), { maxLength: 4 }), fc.oneof(fc.constantFrom(...ODD_VALUES), fc.anything()), fc.nat())
    .map(([m, p, v, how]) => mutateMessage(m, p, v, how)) },
  { weight: 2, arbitrary: fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true }) },
  { weight: 1, arbitrary: cyclic },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('type', 'state', 'domainId', 'iova', 'target', 'site', '__proto__', 'constructor'), fc.constantFrom(...ODD_VALUES, 'ready', 'reveal', 'requestWalk')) },
);

function show(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x), 2) ?? String(v);
  } catch {
    return String(v);
  }
}

const PATHS = /^(message|ready|selectDomain|reveal|goToSource|requestWalk|stateChanged)[.:]/;
const stats = { accepted: 0, rejected: 0 };

const message: FuzzTarget<unknown> = {
  arbitrary: messageArb,
  show,
  check(x) {
    const r = validateWebviewMessage(x);
    if ('error' in r) {
      stats.rejected++;
      assert.equal(typeof r.error, 'string');
      assert.match(r.error, PATHS, `error does not name the field: ${r.error}`);
      assertReadable(r.error, 'undefined NaN');   // the value itself may be undefined or NaN
      assert.ok(r.error.length < 400, `${r.error.length}-character error`);
      return;
    }
    stats.accepted++;
    // what the host acts on is plain data that validates to itself
    const json = JSON.stringify(r);
    const plain = JSON.parse(json);
    assert.equal(JSON.stringify(plain), json, 'accepted message is not plain JSON data');
    assert.equal(JSON.stringify(validateWebviewMessage(plain)), json, 'accepted message does not validate to itself');
    assert.equal(JSON.stringify(Object.keys(r)), JSON.stringify(Object.keys(plain)), 'accepted message has fields JSON drops');
    if (r.type === 'goToSource') assert.ok(!/^[a-z]+:\/\//i.test(r.site) && !r.site.includes('..'), `site ${r.site} accepted`);
  },
  summary: () => `${stats.accepted} accepted, ${stats.rejected} rejected`,
  finish() {
    assert.ok(stats.accepted > 0 && stats.rejected > stats.accepted, JSON.stringify(stats));
  },
};

const settingValue = fc.oneof(fc.constantFrom<unknown>('scenario', '4K', '16K', '64K', 'strict', 'lazy', 'applied', 'mainline', 'constructor',
  '__proto__', 'toString', 'hasOwnProperty', '', '4k', ' 4K', 100000, 0, -1, 1.5, 2 ** 53, NaN, null, true, [], {}), fc.jsonValue());
const settingsArb = fc.record({
  defaultPreset: settingValue, cpuPageSize: settingValue, dmaStrict: settingValue, largeIommuPages: settingValue,
  annotationsEnabled: settingValue, maxSteps: settingValue,
}) as fc.Arbitrary<unknown> as fc.Arbitrary<SettingsValues>;

const settingStats = { valid: 0, refused: 0 };

const settings: FuzzTarget<SettingsValues> = {
  arbitrary: settingsArb,
  show,
  summary: () => `${settingStats.valid} valid override sets, ${settingStats.refused} refused`,
  check(s) {
    try {
      const o = kernelOverrides(s);
      settingStats.valid++;
      if (o.page_size !== undefined) assert.ok([4096, 16384, 65536].includes(o.page_size), `page_size ${String(o.page_size)}`);
      if (o.dma_strict !== undefined) assert.equal(typeof o.dma_strict, 'boolean');
      if (o.large_iommu_pages !== undefined) assert.equal(typeof o.large_iommu_pages, 'boolean');
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      settingStats.refused++;
      assert.match(e.message, /^iommuLens\.(cpuPageSize|dmaStrict|largeIommuPages): /);
      assertReadable(e.message, show(s));
    }
    try {
      const n = maxStepsOf(s);
      assert.ok(Number.isSafeInteger(n) && n >= 1);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      assert.match(e.message, /^iommuLens\.maxSteps: /);
    }
  },
};

export const targets = { 'webview-message': message, 'host-message': hostMessage, settings };
