// Address-map paint times in headless Debian chromium, through webview/dev/harness.mts (run with tsx: the
// harness uses top-level await and import.meta). Started by bench/measures/webview.ts:
//   node --import tsx bench/webview-child.mts WEBVIEW_DIST_DIR RESULT_FILE
// Writes { firstPaint: {subject, floor, deserializeMs, receiveMs, indexMs, sceneMs, paintMs, cloneMs}, frame: {subject,
// floor}, errors } in milliseconds (the breakdown as medians of the page's own stats). The subject is a synthetic 100,000-mapping DART domain; the floor the same page with an empty
// domain (an empty canvas).
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
type MapHandle = { __iommuLensMap: { paintTimes: number[]; controller: { model: unknown } } };

/** Zoom in, drag across, zoom out, as a user exploring the map; returns the paint times of those frames. */
async function panAndZoom(page: Page): Promise<number[]> {
  await page.evaluate(() => { (window as unknown as MapHandle).__iommuLensMap.paintTimes.length = 0; });
  const box = (await page.locator('canvas').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.9, box.y + 80);
  for (let i = 0; i < 30; i++) { await page.mouse.wheel(0, -120); await page.waitForTimeout(16); }
  await page.mouse.down();
  for (let i = 0; i < 40; i++) { await page.mouse.move(box.x + box.width * 0.9 - i * 10, box.y + 80); await page.waitForTimeout(16); }
  await page.mouse.up();
  for (let i = 0; i < 30; i++) { await page.mouse.wheel(0, 120); await page.waitForTimeout(16); }
  await page.waitForTimeout(100);
  return page.evaluate(() => [...(window as unknown as MapHandle).__iommuLensMap.paintTimes]);
}

/**
 * Loads a fresh page and hands it the snapshot as the panel would (typed-array columns, structured clone);
 * resolves with the page's own stats of its first paint. The message is rebuilt in the page before it is
 * posted (harness transport), so the figure starts when the webview's message handler runs: reading e.data
 * (deserializing the message) is inside it.
 */
async function firstPaint(page: Page, harness: Awaited<ReturnType<typeof h.startMapHarness>>, packed: string, domain: string): Promise<Record<string, string>> {
  await page.goto(harness.url);
  await page.waitForFunction(() => '__iommuLensMap' in window);
  await h.applyTheme(page, DARK);
  await h.postPacked(page, packed);
  return h.waitForPaint(page, domain);
}

/** What one more structured clone of the model costs in the page (each hop of a relay pays about this). */
async function cloneMs(page: Page): Promise<number> {
  return page.evaluate(() => {
    const m = (window as unknown as MapHandle).__iommuLensMap.controller.model;
    const t0 = performance.now();
    structuredClone(m);
    return performance.now() - t0;
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const harness = await h.startMapHarness(distDir);
const browser = await h.launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const errors = h.collectPageErrors(page);
  const big = buildMapModel(syntheticReport({ mappings: 100_000, seed: 3 }), 'd1');
  const empty = buildMapModel(syntheticReport({ mappings: 0, seed: 3 }), 'd1');
  const bigPacked = h.packMessage({ type: 'snapshot', model: big });
  const emptyPacked = h.packMessage({ type: 'snapshot', model: empty });
  const first = { subject: [] as number[], floor: [] as number[], deserializeMs: [] as number[], receiveMs: [] as number[],
    indexMs: [] as number[], sceneMs: [] as number[], paintMs: [] as number[], cloneMs: 0 };
  // one warm-up load of each (browser caches, code cache), then alternate
  await firstPaint(page, harness, bigPacked, 'd1');
  await firstPaint(page, harness, emptyPacked, 'd1');
  for (let i = 0; i < FIRST_PAINT_RUNS; i++) {
    const s = await firstPaint(page, harness, bigPacked, 'd1');
    first.subject.push(Number(s.firstPaintMs));
    first.deserializeMs.push(Number(s.deserializeMs));
    first.receiveMs.push(Number(s.receiveMs));
    first.indexMs.push(Number(s.indexMs));
    first.sceneMs.push(Number(s.sceneMs));
    first.paintMs.push(Number(s.firstPaintOwnMs));
    if (i === 0) first.cloneMs = await cloneMs(page);
    first.floor.push(Number((await firstPaint(page, harness, emptyPacked, 'd1')).firstPaintMs));
  }
  const frame = { subject: [] as number[], floor: [] as number[] };
  for (let i = 0; i < FRAME_RUNS; i++) {
    await firstPaint(page, harness, bigPacked, 'd1');
    frame.subject.push(...await panAndZoom(page));
    await firstPaint(page, harness, emptyPacked, 'd1');
    frame.floor.push(...await panAndZoom(page));
  }
  const bytes = (m: typeof big) => JSON.stringify(m, (_k, v: unknown) => (ArrayBuffer.isView(v) ? undefined : v)).length +
    Object.values(m.mappings).concat(Object.values(m.buffers), Object.values(m.steps), [m.strings.end])
      .reduce((a, c) => a + (c as ArrayBufferView).byteLength, 0) + m.strings.text.length;
  fs.writeFileSync(resultFile, JSON.stringify({
    firstPaint: { ...first, deserializeMs: median(first.deserializeMs), receiveMs: median(first.receiveMs), indexMs: median(first.indexMs),
      sceneMs: median(first.sceneMs), paintMs: median(first.paintMs) },
    frame, errors, mappings: big.mappings.iova.length, modelMB: bytes(big) / 1e6,
  }));
} finally {
  await browser.close();
  await harness.close();
}
