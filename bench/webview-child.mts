// Address-map paint times in headless Debian chromium, through webview/dev/harness.mts (run with tsx: the
// harness uses top-level await and import.meta). Started by bench/measures/webview.ts:
//   node --import tsx bench/webview-child.mts WEBVIEW_DIST_DIR RESULT_FILE
// Writes { firstPaint: {subject, floor}, frame: {subject, floor}, errors } in milliseconds. The subject is a
// synthetic 100,000-mapping DART domain; the floor the same page with an empty domain (an empty canvas).
import fs from 'node:fs';

const [distDir, resultFile] = process.argv.slice(2);
// the harness runs a CLI of its own when its argv names a command: show it none
process.argv = process.argv.slice(0, 2);

const FIRST_PAINT_RUNS = 5;
const FRAME_RUNS = 2;

const h = await import('../webview/dev/harness.mts');
const { syntheticReport } = await import('../webview/synthetic.ts');
const { buildMapModel } = await import('../webview/model.ts');
const { DARK } = await import('../webview/dev/themes.ts');

type Page = Awaited<ReturnType<Awaited<ReturnType<typeof h.launchChromium>>['newPage']>>;
type Model = ReturnType<typeof buildMapModel>;

/** Zoom in, drag across, zoom out, as a user exploring the map; returns the paint times of those frames. */
async function panAndZoom(page: Page): Promise<number[]> {
  await page.evaluate(() => { (window as unknown as { __iommuLensMap: { paintTimes: number[] } }).__iommuLensMap.paintTimes.length = 0; });
  const box = (await page.locator('canvas').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.9, box.y + 80);
  for (let i = 0; i < 30; i++) { await page.mouse.wheel(0, -120); await page.waitForTimeout(16); }
  await page.mouse.down();
  for (let i = 0; i < 40; i++) { await page.mouse.move(box.x + box.width * 0.9 - i * 10, box.y + 80); await page.waitForTimeout(16); }
  await page.mouse.up();
  for (let i = 0; i < 30; i++) { await page.mouse.wheel(0, 120); await page.waitForTimeout(16); }
  await page.waitForTimeout(100);
  return page.evaluate(() => [...(window as unknown as { __iommuLensMap: { paintTimes: number[] } }).__iommuLensMap.paintTimes]);
}

/**
 * Loads a fresh page and hands it the snapshot as the panel would; resolves with the page's first-paint time.
 * The model travels as one JSON string (playwright's argument encoding of a 21 MB object takes ~40 s) and is
 * parsed in the page before it is posted, so the figure starts when the webview receives the message.
 */
async function firstPaint(page: Page, harness: Awaited<ReturnType<typeof h.startMapHarness>>, json: string, domain: string): Promise<number> {
  await page.goto(harness.url);
  await page.waitForFunction(() => '__iommuLensMap' in window);
  await h.applyTheme(page, DARK);
  await page.evaluate(s => window.postMessage({ type: 'snapshot', model: JSON.parse(s) }, '*'), json);
  const stats = await h.waitForPaint(page, domain);
  return Number(stats.firstPaintMs);
}

/** What the webview pays to receive the message (structured clone of the model), measured in the page. */
async function cloneMs(page: Page, json: string): Promise<number> {
  return page.evaluate(s => {
    const m = JSON.parse(s);
    const t0 = performance.now();
    structuredClone(m);
    return performance.now() - t0;
  }, json);
}

const harness = await h.startMapHarness(distDir);
const browser = await h.launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const errors = h.collectPageErrors(page);
  const big: Model = buildMapModel(syntheticReport({ mappings: 100_000, seed: 3 }), 'd1');
  const empty: Model = buildMapModel(syntheticReport({ mappings: 0, seed: 3 }), 'd1');
  const bigJson = JSON.stringify(big), emptyJson = JSON.stringify(empty);
  const first = { subject: [] as number[], floor: [] as number[], cloneMs: 0 };
  // one warm-up load of each (browser caches, code cache), then alternate
  await firstPaint(page, harness, bigJson, 'd1');
  await firstPaint(page, harness, emptyJson, 'd1');
  for (let i = 0; i < FIRST_PAINT_RUNS; i++) {
    first.subject.push(await firstPaint(page, harness, bigJson, 'd1'));
    first.floor.push(await firstPaint(page, harness, emptyJson, 'd1'));
  }
  first.cloneMs = await cloneMs(page, bigJson);
  const frame = { subject: [] as number[], floor: [] as number[] };
  for (let i = 0; i < FRAME_RUNS; i++) {
    await firstPaint(page, harness, bigJson, 'd1');
    frame.subject.push(...await panAndZoom(page));
    await firstPaint(page, harness, emptyJson, 'd1');
    frame.floor.push(...await panAndZoom(page));
  }
  fs.writeFileSync(resultFile, JSON.stringify({ firstPaint: first, frame, errors, mappings: big.mappings.iova.length, modelMB: bigJson.length / 1e6 }));
} finally {
  await browser.close();
  await harness.close();
}
