// Standalone harness for the address-map webview: serves dist/webview.js in the same CSP-locked page the
// panel uses, opens it in headless Chromium, feeds it a snapshot through window.postMessage, and takes
// screenshots or measures paint times. Used for visual checks, e2e and the benchmark.
//
//   npm run build            (or: npx esbuild as in esbuild.mjs; IOMMU_LENS_WEBVIEW_DIST=DIR serves a bundle built elsewhere)
//   node --import tsx webview/dev/harness.mts shoot OUT_DIR [--mappings N]
//   node --import tsx webview/dev/harness.mts bench [--mappings 100000]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeNonce, webviewHtml } from '../../extension/map/html';
import { buildMapModel } from '../model';
import { syntheticReport } from '../synthetic';
import type { MapModel } from '../modelTypes';
import { validateWebviewMessage, type HostToWebview, type WalkLevel, type WebviewToHost } from '../protocol';
import type { Report } from '../../simulator/report/types';
import { DARK, LIGHT, type HarnessTheme } from './themes';
import { postToWebview } from './transport';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export interface Harness {
  url: string;
  close(): Promise<void>;
}

/** Serves the webview page (fresh nonce per request) and dist/ (or $IOMMU_LENS_WEBVIEW_DIST) on 127.0.0.1. */
export async function startMapHarness(distDir = process.env.IOMMU_LENS_WEBVIEW_DIST ?? path.join(ROOT, 'dist')): Promise<Harness> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      const origin = `http://${req.headers.host}`;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(webviewHtml({ cspSource: origin, scriptUri: `${origin}/dist/webview.js`, styleUri: `${origin}/dist/webview.css`,
        nonce: makeNonce(), title: 'IOMMU address map' }));
      return;
    }
    const file = path.join(distDir, path.basename(url.pathname));
    if (url.pathname.startsWith('/dist/') && fs.existsSync(file)) {
      res.writeHead(200, { 'content-type': file.endsWith('.css') ? 'text/css' : 'text/javascript' });
      fs.createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(url.pathname === '/favicon.ico' ? 204 : 404).end();
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise(r => server.close(() => r())) };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

/** Problems the page reported: console errors and CSP violations. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', m => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`); });
  page.on('pageerror', e => errors.push(`pageerror: ${e.message}`));
  return errors;
}

export async function applyTheme(page: Page, theme: HarnessTheme): Promise<void> {
  await page.evaluate(t => {
    for (const [k, v] of Object.entries(t.vars)) document.documentElement.style.setProperty(k, v);
    document.body.className = t.bodyClass;
  }, theme);
}

export { packMessage, postPacked, postToWebview } from './transport';

/** Waits until the map painted `domain` at least `paints` times; returns the stats attributes. */
export async function waitForPaint(page: Page, domain: string, paints = 1): Promise<Record<string, string>> {
  await page.waitForFunction(([d, n]) => {
    const s = document.querySelector<HTMLElement>('[data-testid=map-stats]');
    return s?.dataset.domain === d && Number(s.dataset.paints) >= Number(n);
  }, [domain, String(paints)] as const, { timeout: 30_000 });
  return page.evaluate(() => ({ ...document.querySelector<HTMLElement>('[data-testid=map-stats]')!.dataset }) as Record<string, string>);
}

/** Opens the page with a theme and a snapshot; resolves after the first paint. */
export async function openMap(page: Page, h: Harness, model: MapModel, theme: HarnessTheme): Promise<Record<string, string>> {
  await page.goto(h.url);
  await page.waitForFunction(() => '__iommuLensMap' in window);
  await applyTheme(page, theme);
  await postToWebview(page, { type: 'snapshot', model });
  return waitForPaint(page, model.domain?.id ?? '');
}

/**
 * Plays the extension host for a page: answers selectDomain with that domain's snapshot and requestWalk with a
 * made-up two-level DART walk, and records every message. Call before openMap.
 */
export async function fakeHost(page: Page, report: Report): Promise<WebviewToHost[]> {
  const received: WebviewToHost[] = [];
  await page.exposeFunction('__iommuLensHost', async (raw: unknown) => {
    const m = validateWebviewMessage(raw);
    if ('error' in m) throw new Error(`webview sent a malformed message: ${m.error}`);
    received.push(m);
    if (m.type === 'selectDomain') await postToWebview(page, { type: 'snapshot', model: buildMapModel(report, m.domainId) });
    if (m.type === 'requestWalk') await postToWebview(page, fakeWalk(buildMapModel(report, m.domainId), m.iova));
  });
  return received;
}

function fakeWalk(model: MapModel, iova: number): HostToWebview {
  const mp = model.mappings;
  const i = mp.iova.findIndex((a, k) => iova >= a && iova < a + mp.size[k]);
  const l1 = Math.floor(iova / 2 ** 25) % 2048;
  const l2 = Math.floor(iova / 2 ** 14) % 2048;
  if (!model.domain) return { type: 'walk', domainId: '', iova, error: 'no domain' };
  const levels: WalkLevel[] = [
    { level: 1, index: l1, table: 0x8000f0000, raw: '0x00000008000f4003', outcome: 'table' },
    i >= 0
      ? { level: 2, index: l2, table: 0x8000f4000, raw: '0x' + (Math.floor((mp.paddr[i] + iova - mp.iova[i]) / 16384) * 16384 + 3).toString(16).padStart(16, '0'), outcome: 'leaf' }
      : { level: 2, index: l2, table: 0x8000f4000, raw: '0x0000000000000000', outcome: 'invalid' },
  ];
  return { type: 'walk', domainId: model.domain.id, iova, levels };
}

async function shoot(outDir: string, n: number): Promise<void> {
  fs.mkdirSync(outDir, { recursive: true });
  const h = await startMapHarness();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    const errors = collectPageErrors(page);
    const report = syntheticReport({ mappings: n, seed: 7 });
    await fakeHost(page, report);
    const model = buildMapModel(report, 'd1');
    for (const theme of [DARK, LIGHT]) {
      const name = theme === DARK ? 'dark' : 'light';
      await openMap(page, h, model, theme);
      await page.screenshot({ path: path.join(outDir, `${name}-fit.png`) });
      // Zoom to the mapped region, then into one exposed mapping, hover it and click it.
      const lo = Math.min(...model.mappings.iova);
      const hi = Math.max(...model.mappings.iova.map((a, k) => a + model.mappings.size[k]));
      await postToWebview(page, { type: 'selectDomain', domainId: 'd1', focus: { iova: lo, size: hi - lo } });
      await page.waitForTimeout(150);
      await page.screenshot({ path: path.join(outDir, `${name}-region.png`) });
      const k = model.mappings.exposed.findIndex((e, j) => e > 0 && model.mappings.size[j] === 16384);
      await postToWebview(page, { type: 'selectDomain', domainId: 'd1', focus: { iova: model.mappings.iova[k] - 16384, size: 3 * 16384 } });
      await page.waitForTimeout(150);
      const box = (await page.locator('canvas').boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + 90);
      await page.mouse.down();
      await page.mouse.up();
      await page.waitForTimeout(100);
      await page.mouse.move(box.x + box.width / 2 + 5, box.y + 95);
      await page.waitForTimeout(150);
      await page.screenshot({ path: path.join(outDir, `${name}-granule.png`) });
    }
    const big = buildMapModel(syntheticReport({ mappings: 100_000, seed: 3 }), 'd1');
    await openMap(page, h, big, DARK);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(outDir, 'dark-100k.png') });
    const bl = Math.min(...big.mappings.iova.slice(50_000, 50_400));
    await postToWebview(page, { type: 'selectDomain', domainId: 'd1', focus: { iova: bl, size: 0x1000000 } });
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(outDir, 'dark-100k-16M.png') });
    console.log(errors.length ? errors.join('\n') : 'no console errors or CSP violations');
  } finally {
    await browser.close();
    await h.close();
  }
}

async function bench(n: number): Promise<void> {
  const h = await startMapHarness();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    const errors = collectPageErrors(page);
    const model = buildMapModel(syntheticReport({ mappings: n, seed: 3 }), 'd1');
    const stats = await openMap(page, h, model, DARK);
    const box = (await page.locator('canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.9, box.y + 80);
    for (let i = 0; i < 40; i++) { await page.mouse.wheel(0, -120); await page.waitForTimeout(16); }
    await page.mouse.down();
    for (let i = 0; i < 60; i++) { await page.mouse.move(box.x + box.width * 0.9 - i * 8, box.y + 80); await page.waitForTimeout(16); }
    await page.mouse.up();
    for (let i = 0; i < 40; i++) { await page.mouse.wheel(0, 120); await page.waitForTimeout(16); }
    const times = await page.evaluate(() => [...(window as unknown as { __iommuLensMap: { paintTimes: number[] } }).__iommuLensMap.paintTimes]);
    const sorted = [...times].sort((a, b) => a - b);
    const q = (f: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * f))];
    console.log(JSON.stringify({ mappings: n, firstPaintMs: Number(stats.firstPaintMs), paints: times.length,
      medianPaintMs: q(0.5), p95PaintMs: q(0.95), maxPaintMs: sorted[sorted.length - 1], errors }, null, 1));
  } finally {
    await browser.close();
    await h.close();
  }
}

const [cmd, ...rest] = process.argv.slice(2);
const flag = (name: string, dflt: number) => { const i = rest.indexOf(name); return i >= 0 ? Number(rest[i + 1]) : dflt; };
if (cmd === 'shoot') await shoot(rest[0] && !rest[0].startsWith('--') ? rest[0] : '/tmp/iommu-map-shots', flag('--mappings', 40));
else if (cmd === 'bench') await bench(flag('--mappings', 100_000));
else if (cmd !== undefined) { console.error(`harness: unknown command "${cmd}" (use shoot or bench)`); process.exit(2); }
