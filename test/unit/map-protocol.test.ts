// Address map: the webview message protocol, the panel's pure decisions (domain choice, focus, reveal, walk),
// the CSP of the page, tooltip/click wording, and the address parser of the walk field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateWebviewMessage, validateMapViewState, type MapViewState } from '../../webview/protocol';
import { chooseDomain, focusFromArg, treeRevealArg, walkMessage } from '../../extension/map/hostLogic';
import { contentSecurityPolicy, makeNonce, webviewHtml } from '../../extension/map/html';
import { buildMapModel } from '../../webview/model';
import { clickAction, describe } from '../../webview/describe';
import { bytesLabel, hexAddr, parseAddress } from '../../webview/format';
import { smallReport } from './map-fixtures';

const state: MapViewState = { domainId: 'd1', iova: { start: 0, span: 2 ** 32 }, phys: { start: 0x800000000, span: 2 ** 30, follow: true },
  colorBy: 'buffer', walkAddress: '0xffffc000' };

test('every well-formed webview message is accepted as is', () => {
  const ok = [
    { type: 'ready', state: null },
    { type: 'ready', state },
    { type: 'selectDomain', domainId: 'd1' },
    { type: 'reveal', target: { kind: 'mapping', domain: 'd1', iova: '0xffffc000', paddr: '0x800004000', size: 16384, step: 2, dev: 'xhci' } },
    { type: 'reveal', target: { kind: 'fault', domain: 'd1', iova: '0xffff0100', step: 4 } },
    { type: 'goToSource', site: 'drivers/usb/host/xhci-ring.c:xhci_queue_bulk_tx' },
    { type: 'goToSource', site: 'apu_gem.c:42' },
    { type: 'goToSource', site: 'apu_gem.c:apu_bo_iommu_map:117' },
    { type: 'requestWalk', domainId: 'd1', iova: 0xffffc000 },
    { type: 'stateChanged', state },
  ];
  for (const m of ok) assert.deepEqual(validateWebviewMessage(m), m);
});

test('malformed webview messages are rejected with the field and value named', () => {
  const bad: Array<[unknown, RegExp]> = [
    [null, /message: expected an object, got null/],
    [{ type: 'explode' }, /message.type: expected ready \| selectDomain/],
    [{ type: 'requestWalk', domainId: 'd1', iova: 2 ** 53 }, /requestWalk.iova: expected an address .* got 9007199254740992/],
    [{ type: 'requestWalk', domainId: 'd1', iova: -1 }, /requestWalk.iova/],
    [{ type: 'requestWalk', domainId: 'd1', iova: '0x1000' }, /requestWalk.iova: expected an address/],
    [{ type: 'selectDomain', domainId: 'd1; rm -rf' }, /selectDomain.domainId: expected an identifier/],
    [{ type: 'selectDomain', domainId: 'd1', extra: 1 }, /selectDomain.extra: expected no such field/],
    [{ type: 'goToSource', site: 'javascript:alert(1)' }, /goToSource.site: expected "FILE.c:FUNCTION"/],
    [{ type: 'reveal', target: { kind: 'mapping', domain: 'd1', iova: '0XFFFF' } }, /reveal.target.iova: expected a lowercase hex address/],
    [{ type: 'reveal', target: { kind: 'group', domain: 'd1' } }, /reveal.target.kind: expected mapping \| fault \| buffer \| domain/],
    [{ type: 'stateChanged', state: { ...state, colorBy: 'rainbow' } }, /stateChanged.state.colorBy/],
    [{ type: 'stateChanged', state: { ...state, iova: { start: 0, span: 0 } } }, /stateChanged.state.iova.span: expected a positive number/],
    [{ type: 'stateChanged', state: { ...state, phys: { start: 0, span: 1, follow: 'yes' } } }, /stateChanged.state.phys.follow/],
  ];
  for (const [m, re] of bad) {
    const r = validateWebviewMessage(m);
    assert.ok('error' in r, `accepted ${JSON.stringify(m)}`);
    assert.match(r.error, re);
  }
  assert.throws(() => validateMapViewState({ domainId: 'd1' }, 'state'), /state.iova: expected an object, got undefined/);
});

test('the panel chooses the asked domain, then the touched one, then the busiest', () => {
  const r = smallReport();
  assert.equal(chooseDomain(r, ['d0']), 'd0');
  assert.equal(chooseDomain(r, ['d9', undefined, 'd0']), 'd0');
  assert.equal(chooseDomain(r, [null]), 'd1');
  assert.equal(chooseDomain(undefined, ['d1']), null);
});

test('a tree focus becomes a domain and a range; a device focus uses the device domain', () => {
  const r = smallReport();
  assert.deepEqual(focusFromArg(r, { domain: 'd1', iova: '0xffffc000' }), { domainId: 'd1', focus: { iova: 0xffffc000 } });
  assert.deepEqual(focusFromArg(r, { dev: 'xhci', paddr: '0x800005000' }), { domainId: 'd1', focus: { paddr: 0x800005000 } });
  assert.equal(focusFromArg(r, undefined), null);
  assert.equal(focusFromArg(r, { iova: 'not hex' }), null);
});

test('a click on a fault reveals it in the tree by its index in report.faults', () => {
  const r = smallReport();
  assert.deepEqual(treeRevealArg(r, { kind: 'fault', domain: 'd1', iova: '0xffff0100', step: 4, dev: 'xhci' }),
    { domain: 'd1', step: 4, dev: 'xhci', iova: '0xffff0100', faultIndex: 0 });
  assert.deepEqual(treeRevealArg(r, { kind: 'mapping', domain: 'd1', iova: '0xffffc000', size: 16384 }),
    { domain: 'd1', iova: '0xffffc000', size: 16384 });
});

test('walk results: levels pass through; a missing, failing, empty or malformed walk is an error message', () => {
  const levels = [{ level: 0, index: 2047, table: 0x8000f0000, raw: '0x00000008000f4003', outcome: 'table' },
    { level: 1, index: 3, table: '0x8000f4000', raw: '0x0000000800004003', outcome: 'leaf' }];
  const ok = walkMessage(() => levels, 'd1', 0xffffc000);
  assert.deepEqual(ok, { type: 'walk', domainId: 'd1', iova: 0xffffc000,
    levels: [levels[0], { ...levels[1], table: 0x8000f4000 }] });
  const err = (m: ReturnType<typeof walkMessage>) => (m.type === 'walk' && m.error !== undefined ? m.error : '');
  assert.match(err(walkMessage(undefined, 'd1', 0)), /cannot walk page tables/);
  assert.match(err(walkMessage(() => { throw new Error('boom'); }, 'd1', 0x1000)), /Walking d1 at 0x1000 failed: boom/);
  assert.match(err(walkMessage(() => [], 'd0', 0, 'IDENTITY')), /d0 \(IDENTITY\) has no page table to walk: it does not translate/);
  assert.match(err(walkMessage(() => [{ level: 0, index: 1, table: 1, raw: 5, outcome: 'leaf' }], 'd1', 0)), /level 0 is malformed/);
});

test('the page allows only our nonce-tagged script and styles from the webview origin', () => {
  const a = makeNonce();
  assert.notEqual(a, makeNonce());
  assert.ok(Buffer.from(a, 'base64').length === 16);
  const csp = contentSecurityPolicy('https://x.vscode-cdn.net', a);
  assert.match(csp, /^default-src 'none'; /);
  assert.match(csp, new RegExp(`script-src 'nonce-${a.replace(/[+/]/g, c => '\\' + c)}'`));
  assert.match(csp, /style-src https:\/\/x\.vscode-cdn\.net;/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:\/\/(?!x\.vscode-cdn)/);
  const html = webviewHtml({ cspSource: 'https://x.vscode-cdn.net', scriptUri: 'https://x.vscode-cdn.net/dist/webview.js',
    styleUri: 'https://x.vscode-cdn.net/dist/webview.css', nonce: a, title: 'map' });
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.ok(html.includes(`<script nonce="${a}" src="https://x.vscode-cdn.net/dist/webview.js">`));
  assert.doesNotMatch(html, /style="|<style/);
});

test('tooltip of an exposed mapping says how much is exposed and where the handle points; click reveals and opens source', () => {
  const m = buildMapModel(smallReport(), 'd1');
  const d = describe(m, { kind: 'mapping', band: 'iova', item: 2 });
  assert.equal(d.title, 'mapping');
  // As wide as the aperture (32-bit) and DRAM (36-bit) need.
  assert.deepEqual(d.rows.slice(0, 2), [['IOVA', '0xffffc000–0xffffffff'], ['PA', '0x0800004000–0x0800007fff']]);
  assert.match(d.warnings[0], /exposed: 12 KiB device-visible beyond the 4 KiB asked for \(dma handle 0xffffd000/);
  const stale = describe(m, { kind: 'mapping', band: 'iova', item: 0 });
  assert.equal(stale.title, 'stale IOTLB entry');
  assert.ok(stale.warnings.some(w => /swiotlb slot/.test(w)));
  const a = clickAction(m, { kind: 'mapping', band: 'iova', item: 2 });
  assert.deepEqual(a.reveal, { kind: 'mapping', domain: 'd1', iova: '0xffffc000', paddr: '0x800004000', size: 16384, step: 2, dev: 'xhci' });
  assert.equal(a.site, 'xhci-ring.c:xhci_queue_bulk_tx');
  assert.equal(a.walk, 0xffffd000, 'walks the device address the driver got');
  const hole = describe(m, { kind: 'hole', start: 0xffff8000, end: 0xffffc000 });
  assert.deepEqual(hole.rows, [['IOVA', '0xffff8000–0xffffbfff'], ['size', '16 KiB']]);
});

test('walk field addresses: hex, decimal and size suffixes exactly; anything else is a named error', () => {
  assert.equal(parseAddress(' 0xFFFFC000 '), 0xffffc000);
  assert.equal(parseAddress('4096'), 4096);
  assert.equal(parseAddress('16K'), 16384);
  assert.equal(parseAddress('0x1_0000'), 0x10000);
  assert.deepEqual(parseAddress('0xfffffffffffffff'), { error: '"0xfffffffffffffff" is too large to represent exactly (limit 2^53 - 1)' });
  assert.match((parseAddress('ffffc000h') as { error: string }).error, /"ffffc000h" is not an address/);
  assert.match((parseAddress('') as { error: string }).error, /enter an IOVA/);
});

test('byte labels are exact or say they are rounded', () => {
  assert.equal(bytesLabel(12288), '12 KiB');
  assert.equal(bytesLabel(1536), '1.5 KiB');
  assert.equal(bytesLabel(2 ** 32 - 4096), '≈4 GiB');
  assert.equal(bytesLabel(100), '100 B');
  assert.equal(hexAddr(0xffffc000, 16), '0x00000000ffffc000');
});
