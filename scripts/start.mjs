// `npm start`: opens IOMMU Lens on the embedded default - the examples folder, default.iommu.yaml opened and run,
// the IOMMU Lens view shown. In desktop VS Code when `code` is on the PATH; otherwise in the real VS Code workbench
// served by code-server on 127.0.0.1 (installed on first use by scripts/setup-code-server.sh), until Ctrl-C.
//
//   node scripts/start.mjs [--web] [--port N] [--no-open]
//     --web       use code-server even when `code` is on the PATH
//     --port N    port for code-server (default: a free one)
//     --no-open   smoke check (also IOMMU_LENS_START_SMOKE=1): start code-server, check /healthz, load the workbench
//                 once in headless chromium, wait for the default run, save a screenshot, stop, exit 0
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS, ROOT, VSCODE_DIR, missingCodeServer, startCodeServer, workbenchUrl } from './code-server.mjs';

const EXAMPLES = path.join(ROOT, 'examples');
/** The extension opens and runs default.iommu.yaml when its host has this variable (extension/openDefault.ts). */
const OPEN_DEFAULT = { IOMMU_LENS_OPEN_DEFAULT: '1' };
const SCREENSHOTS = process.env.SCREENSHOT_DIR || path.join(ROOT, 'test-results/screenshots');

function usage(message) {
  if (message) console.error(`start: ${message}`);
  console.error('usage: node scripts/start.mjs [--web] [--port N] [--no-open]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { web: false, port: undefined, smoke: /^(1|true)$/i.test(process.env.IOMMU_LENS_START_SMOKE ?? '') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--web') o.web = true;
    else if (a === '--no-open') o.smoke = true;
    else if (a === '--port' || a.startsWith('--port=')) {
      const v = a.includes('=') ? a.slice(7) : argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 65535) usage(`--port wants a port number 1..65535, got ${JSON.stringify(v ?? '')}`);
      o.port = n;
    } else if (a === '--help' || a === '-h') usage();
    else usage(`unknown option ${JSON.stringify(a)}`);
  }
  return o;
}

const onPath = cmd => (process.env.PATH ?? '').split(path.delimiter).some(d => {
  try { fs.accessSync(path.join(d, cmd), fs.constants.X_OK); return true; } catch { return false; }
});

/** Desktop VS Code: a new window with this checkout as the extension under development, on examples/. */
function openDesktop() {
  console.log(`start: opening ${EXAMPLES} in VS Code with IOMMU Lens from ${ROOT}`);
  const r = spawnSync('code', [`--extensionDevelopmentPath=${ROOT}`, EXAMPLES], { stdio: 'inherit', env: { ...process.env, ...OPEN_DEFAULT } });
  if (r.error || r.status !== 0) {
    console.error(`start: \`code\` failed (${r.error?.message ?? `exit status ${r.status}`}); run \`node scripts/start.mjs --web\` for the browser workbench`);
    process.exit(1);
  }
}

function ensureCodeServer() {
  if (!missingCodeServer().length) return;
  console.log(`start: VS Code (code-server) is not installed in ${VSCODE_DIR}; installing it once (about 3 minutes)`);
  const r = spawnSync('bash', [path.join(ROOT, 'scripts/setup-code-server.sh')], { stdio: 'inherit' });
  if (r.status !== 0 || missingCodeServer().length) {
    console.error('start: scripts/setup-code-server.sh failed; see its output above');
    process.exit(1);
  }
}

/** Loads the workbench in headless chromium and waits for the default scenario's run: the smoke check. */
async function smokeCheck(url) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
    // the extension opened default.iommu.yaml, ran it to the end and showed its view
    await page.locator('.tab', { hasText: 'default.iommu.yaml' }).first().waitFor({ timeout: 60000 });
    const status = page.locator('#workbench\\.parts\\.statusbar .statusbar-item', { hasText: /\d+ mappings? · \d+ faults? · \d+ findings?/ });
    await status.first().waitFor({ timeout: 60000 });
    await page.locator('#workbench\\.parts\\.sidebar .pane-header', { hasText: 'IOMMUs' }).first().waitFor({ timeout: 30000 });
    await page.locator('#workbench\\.parts\\.sidebar .monaco-list-row', { hasText: '→' }).first().waitFor({ timeout: 30000 });
    await page.waitForTimeout(1000);   // let the trees and CodeLens settle for the screenshot
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const shot = path.join(SCREENSHOTS, 'start-smoke.png');
    await page.screenshot({ path: shot });
    return { status: (await status.first().innerText()).trim(), shot };
  } finally {
    await browser.close();
  }
}

async function serveWeb({ port, smoke }) {
  ensureCodeServer();
  // the interactive profile persists (settings, layout); a smoke run gets a fresh one it removes afterwards
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const stateDir = smoke ? fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-lens-start-')) : path.join(cache, 'iommu-lens/start');
  fs.mkdirSync(stateDir, { recursive: true });
  const server = await startCodeServer({ stateDir, port });
  const url = workbenchUrl(server.baseUrl, { folder: EXAMPLES, extensionEnvironment: OPEN_DEFAULT });
  const cleanup = async () => {
    await server.stop();
    if (smoke && !process.env.KEEP_TMP) fs.rmSync(stateDir, { recursive: true, force: true });
  };
  console.log(`start: code-server is up (${server.baseUrl}/healthz answers); log: ${server.logFile}`);
  if (smoke) console.log(`start: workbench URL ${url}`);
  if (smoke) {
    try {
      const r = await smokeCheck(url);
      console.log(`start: smoke check passed: the workbench ran default.iommu.yaml (status bar: ${r.status}); screenshot ${r.shot}`);
    } catch (e) {
      console.error(`start: smoke check failed: ${e instanceof Error ? e.message : String(e)}`);
      console.error(fs.readFileSync(server.logFile, 'utf8').split('\n').slice(-30).join('\n'));
      await cleanup();
      process.exit(1);
    }
    await cleanup();
    return;
  }
  console.log(`\nIOMMU Lens is running in VS Code (code-server). Open this URL in a browser:\n\n  ${url}\n\nPress Ctrl-C to stop.`);
  let stopping = false;
  const stop = async signal => {
    if (stopping) return;
    stopping = true;
    console.log(`\nstart: ${signal}: stopping code-server`);
    await cleanup();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
  server.proc.on('exit', code => {
    if (stopping) return;
    console.error(`start: code-server exited (status ${code}); see ${server.logFile}`);
    process.exit(1);
  });
}

const opts = parseArgs(process.argv.slice(2));
if (!fs.existsSync(path.join(ROOT, 'dist/extension.js'))) {
  console.error('start: dist/extension.js is missing: run `npm run build` first (`npm start` does)');
  process.exit(1);
}
if (!opts.smoke && !opts.web && onPath('code')) openDesktop();
else await serveWeb(opts);
