// Browser check of the address-map webview in headless Chromium, with a fake host (harness.mts):
// first paint, wheel zoom at the cursor, drag pan, keyboard fit, domain switch through the dropdown,
// click -> reveal / goToSource / requestWalk -> walk table, theme switch, no CSP violations.
//   npm run build && node --import tsx webview/dev/check.mts        (exit status 1 on failure)
import assert from 'node:assert/strict';
import { buildMapModel } from '../model';
import { syntheticReport } from '../synthetic';
import { applyTheme, collectPageErrors, fakeHost, launchChromium, openMap, startMapHarness, waitForPaint } from './harness.mjs';
import { DARK, LIGHT } from './themes';

const stats = (page: import('playwright-core').Page) =>
  page.evaluate(() => ({ ...document.querySelector<HTMLElement>('[data-testid=map-stats]')!.dataset }) as Record<string, string>);

const h = await startMapHarness();
const browser = await launchChromium();
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const errors = collectPageErrors(page);
  const report = syntheticReport({ mappings: 40, seed: 7 });
  const received = await fakeHost(page, report);
  const model = buildMapModel(report, 'd1');
  const first = await openMap(page, h, model, DARK);
  assert.equal(first.domain, 'd1');
  assert.equal(first.visibleMappings, '40');
  assert.ok(Number(first.iovaSpan) < 2 ** 24, `opens on the mapped range, not the 4 GiB aperture (${first.iovaSpan})`);
  assert.equal(first.faultMarkers, '2');
  assert.ok(received.some(m => m.type === 'ready'), 'the webview said ready');
  const canvas = (await page.locator('canvas').boundingBox())!;
  const gutter = 78;
  const plotW = canvas.width - 2 - gutter;

  // Wheel zoom at the right edge keeps the address under the cursor.
  const x = canvas.x + 1 + gutter + plotW * 0.9;
  await page.mouse.move(x, canvas.y + 90);
  const before = await stats(page);
  const addrAt = (s: Record<string, string>) => Number(s.iovaStart) + (plotW * 0.9 * Number(s.iovaSpan)) / plotW;
  for (let i = 0; i < 5; i++) await page.mouse.wheel(0, -200);
  await page.waitForTimeout(200);
  const zoomed = await stats(page);
  assert.ok(Number(zoomed.iovaSpan) < Number(before.iovaSpan) / 4, `wheel zoomed in: ${before.iovaSpan} -> ${zoomed.iovaSpan}`);
  assert.ok(Math.abs(addrAt(zoomed) - addrAt(before)) < Number(zoomed.iovaSpan) / plotW * 2, 'anchored at the cursor');

  // Drag to the right shows lower addresses.
  await page.mouse.down();
  await page.mouse.move(x - 200, canvas.y + 90, { steps: 8 });
  await page.mouse.up();
  await page.waitForTimeout(100);
  const panned = await stats(page);
  assert.ok(Number(panned.iovaStart) > Number(zoomed.iovaStart), 'dragging left shows higher addresses');

  // Keyboard: 0 fits the aperture again.
  await page.locator('canvas').focus();
  await page.keyboard.press('0');
  await page.waitForTimeout(100);
  assert.equal((await stats(page)).iovaSpan, String(2 ** 32));

  // Focus on one exposed mapping, click it: reveal, go to source, walk.
  const k = model.mappings.exposed.findIndex((e, j) => e > 0 && model.mappings.size[j] === 16384);
  await page.evaluate(m => window.postMessage(m, '*'),
    { type: 'selectDomain', domainId: 'd1', focus: { iova: model.mappings.iova[k], size: 16384 } });
  await page.waitForTimeout(150);
  const focused = await stats(page);
  assert.ok(Number(focused.exposureMarkers) >= 1, 'the exposed mapping is marked');
  await page.mouse.click(canvas.x + 1 + gutter + plotW / 2, canvas.y + 90);
  await page.waitForTimeout(200);
  const types = received.map(m => m.type);
  for (const t of ['reveal', 'goToSource', 'requestWalk']) assert.ok(types.includes(t as never), `click sent ${t}`);
  const walkRows = await page.locator('.walk-table tr').count();
  assert.equal(walkRows, 3, 'walk table: header + 2 levels');

  // Domain switch through the dropdown round-trips through the host.
  await page.evaluate(() => {
    const sel = document.querySelector('vscode-single-select.domain-select') as HTMLElement & { value: string };
    sel.value = 'd2';
    sel.dispatchEvent(new Event('change'));
  });
  const d2 = await waitForPaint(page, 'd2');
  assert.equal(d2.visibleMappings, '4');

  // Theme switch repaints with the new colours.
  const paints = Number(d2.paints);
  await applyTheme(page, LIGHT);
  await page.waitForTimeout(200);
  assert.ok(Number((await stats(page)).paints) > paints, 'theme change repainted');
  await page.waitForTimeout(300);
  assert.ok(received.some(m => m.type === 'stateChanged'), 'state saved for the serializer');
  assert.deepEqual(errors, [], 'no console errors or CSP violations');
  console.log('address map browser check: ok');
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
  await h.close();
}
process.exit(failed ? 1 : 0);
