// Real VS Code for end-to-end tests: code-server (the VS Code 1.139 workbench and its Node extension host) on
// the Node 24 that scripts/setup-code-server.sh installs, driven headless by Debian chromium through
// playwright-core. The extension is loaded from this checkout as the "extension under development"; the
// workspace is a temporary copy of examples/, test-fixtures/fixtures and test/e2e/workspace. Starting code-server
// is shared with `npm start` (scripts/code-server.mjs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, QUIET_SETTINGS, ROOT, startCodeServer as startServer, workbenchUrl as urlFor } from '../../scripts/code-server.mjs';

export { ROOT, VSCODE_DIR } from '../../scripts/code-server.mjs';
export const SCREENSHOTS = process.env.SCREENSHOT_DIR || path.join(ROOT, 'test-results/screenshots');
/** README screenshots, rewritten when IOMMU_LENS_UPDATE_SCREENSHOTS=1. */
export const README_SCREENSHOTS = path.join(ROOT, 'media/screenshots');
export const updateReadmeScreenshots = /^(1|true)$/i.test(process.env.IOMMU_LENS_UPDATE_SCREENSHOTS ?? '');

/**
 * Starts code-server on 127.0.0.1 with a temp profile and a temp workspace (examples/, test-fixtures/fixtures as
 * fixtures/, test/e2e/workspace as e2e/); `stop()` ends its whole process group and removes the temp dir.
 */
export async function startCodeServer() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-lens-e2e-'));
  const workspace = path.join(tmp, 'workspace');
  fs.cpSync(path.join(ROOT, 'examples'), workspace, { recursive: true });
  fs.cpSync(path.join(ROOT, 'test-fixtures/fixtures'), path.join(workspace, 'fixtures'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'test/e2e/workspace'), path.join(workspace, 'e2e'), { recursive: true });
  let server;
  try {
    // Dark Modern, VS Code's default theme, rather than the browser's light preference: what most users see
    server = await startServer({ stateDir: tmp, settings: { ...QUIET_SETTINGS, 'workbench.colorTheme': 'Default Dark Modern' } });
  } catch (e) {
    if (!process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const stop = async () => {
    await server.stop();
    if (!process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
  };
  return { ...server, workspace, tmp, stop };
}

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export function workbenchUrl(server, { extensionTestsPath, extensionEnvironment } = {}) {
  return urlFor(server.baseUrl, { folder: server.workspace, extensionTestsPath, extensionEnvironment });
}

/** Opens the workbench with the extension under development; resolves when the explorer lists the workspace. */
export async function openWorkbench(browser, server) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
  const page = await context.newPage();
  await page.goto(workbenchUrl(server), { waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60000 });
  return { context, page };
}

/** F1, type the command title, wait for its row, Enter. */
export async function runCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor({ state: 'visible', timeout: 15000 });
  await input.fill('>' + title);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15000 });
  await page.keyboard.press('Enter');
}

/** Hides the bottom panel (Problems, Output ...) when it shows; the command is not offered while it is hidden. */
export async function hidePanel(page) {
  if (await page.locator('#workbench\\.parts\\.panel').isVisible()) await runCommand(page, 'View: Hide Panel');
}

/** Ctrl+P, type the file name, Enter; resolves when an editor shows TEXT (a string from the file). */
export async function openFile(page, name, text) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor({ state: 'visible', timeout: 15000 });
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15000 });
  await page.keyboard.press('Enter');
  if (text) await page.locator('.editor-instance .view-lines', { hasText: text }).first().waitFor({ timeout: 20000 });
}

/** Drags the sash right of the sidebar so tree rows show their descriptions. */
export async function widenSidebar(page, by = 260) {
  const box = await page.locator('#workbench\\.parts\\.sidebar').boundingBox();
  const x = box.x + box.width + 1, y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + by / 2, y, { steps: 4 });
  await page.mouse.move(x + by, y, { steps: 4 });
  await page.mouse.up();
}

/** Rows of the sidebar's trees as their accessible labels (label and description). */
export async function sidebarRows(page) {
  return page.locator('#workbench\\.parts\\.sidebar .monaco-list-row').evaluateAll(rows => rows.map(r => r.getAttribute('aria-label') ?? r.textContent ?? ''));
}

/** Webviews render in iframe.webview > iframe#active-frame. */
export const webviewFrame = page => page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');

/**
 * The address map's test hook once it has painted (domain DOMAIN when given): its data-* counts of what the last
 * paint drew (blocks, exposureMarkers, faultMarkers, iovaStart, iovaSpan, paints ...). The map appears 2-4 s after
 * the panel's tab: VS Code boots the webview's service worker and iframe first.
 */
export async function waitForMap(page, { domain, timeout = 30000 } = {}) {
  const stats = webviewFrame(page).locator('[data-testid=map-stats][data-paints]');
  const end = Date.now() + timeout;
  for (;;) {
    const d = await stats.evaluate(e => ({ ...e.dataset }), undefined, { timeout: Math.max(1000, end - Date.now()) });
    if (!domain || d.domain === domain) return d;
    if (Date.now() > end) throw new Error(`the map shows domain ${d.domain}, not ${domain}`);
    await page.waitForTimeout(200);
  }
}

/**
 * Page coordinates of the middle of what the map draws for the mapping at IOVA (row 'iova'), or of the fault
 * marker at IOVA (row 'markers'), from the map's own scene (window.__iommuLensMap) and the canvas position.
 */
export async function mapPoint(page, iova, row = 'iova') {
  const canvas = webviewFrame(page).locator('canvas.map-canvas');
  const box = await canvas.boundingBox();
  const p = await canvas.evaluate((_, { iova, row }) => {
    const c = window.__iommuLensMap.controller;
    const g = c.g;
    const y = g[row].y + g[row].h / 2;
    if (row === 'markers') {
      const f = c.scene.faults.find(f => c.model.faults[f.first].iova === iova);
      return f ? { x: g.gutter + f.x, y } : null;
    }
    const item = c.model.mappings.iova.indexOf(iova);
    const b = c.scene.iova.find(b => b.item === item);
    return b ? { x: g.gutter + (b.x0 + b.x1) / 2, y } : null;
  }, { iova, row });
  if (!p) throw new Error(`the map draws nothing for IOVA 0x${iova.toString(16)} in row ${row}`);
  // the canvas has a 1px border outside its content box
  return { x: box.x + 1 + p.x, y: box.y + 1 + p.y };
}

export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** A README screenshot (media/screenshots/NAME.png), written only when IOMMU_LENS_UPDATE_SCREENSHOTS=1. */
export async function readmeScreenshot(page, name, options = {}) {
  if (!updateReadmeScreenshots) return;
  fs.mkdirSync(README_SCREENSHOTS, { recursive: true });
  await page.screenshot({ ...options, path: path.join(README_SCREENSHOTS, `${name}.png`) });
}

/**
 * Runs the extension's mocha suite (dist/test/index.js exporting run()) inside the real Node extension host,
 * as @vscode/test-electron's extensionTestsPath would. Resolves with the exit code the workbench reports.
 */
export async function runExtensionHostTests(browser, server, { extensionTestsPath, extensionEnvironment, timeoutMs = 240000, log = console.log } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  let resolveExit;
  const exited = new Promise(r => { resolveExit = r; });
  const noise = /\[lifecycle\]|Unable to read file|RemoteAgentHostProtocol|IDBTransaction|\[AgentHost|\[ChatModelSelection\]|\[AccountPolicyGate\]|open-vsx\.org|api\.github\.com|socket|connection token|grace time|Service Worker|builtin extensions cache/;
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const line = util.format(...(args || []));
    if (process.env.VERBOSE || (type === 'info' && !noise.test(line))) log(line);
  });
  await page.exposeFunction('codeAutomationExit', code => resolveExit(code));
  await page.goto(workbenchUrl(server, { extensionTestsPath, extensionEnvironment }), { waitUntil: 'domcontentloaded' });
  let timer;
  const code = await Promise.race([exited, new Promise(r => { timer = setTimeout(() => r('timeout'), timeoutMs); })]);
  clearTimeout(timer);
  await context.close();
  if (code === 'timeout') throw new Error(`extension-host tests did not finish in ${timeoutMs} ms`);
  return code;
}
