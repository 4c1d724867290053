// `npm start` end to end: scripts/start.mjs in its smoke mode starts the real VS Code workbench (code-server),
// checks /healthz, loads the workbench in headless chromium, waits for the default scenario the extension opens and
// runs by itself, saves a screenshot and stops code-server. Also: bad options are refused with a clear message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './harness.mjs';

const START = path.join(ROOT, 'scripts/start.mjs');

function run(args, env = {}, timeoutMs = 150000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [START, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', d => { out += d; });
    child.stderr.on('data', d => { out += d; });
    const timer = setTimeout(() => { child.kill('SIGINT'); reject(new Error(`start.mjs ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${out}`)); }, timeoutMs);
    child.on('exit', code => { clearTimeout(timer); resolve({ code, out }); });
  });
}

/** "N mappings · N faults · N findings" of examples/default.iommu.yaml as the CLI reports it (exit 1 = an expect failed). */
function defaultCounts() {
  let json;
  try {
    json = execFileSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'run', path.join(ROOT, 'examples/default.iommu.yaml'), '--json'], { encoding: 'utf8' });
  } catch (e) {
    if (e.status !== 1 || !e.stdout) throw e;
    json = e.stdout;
  }
  const r = JSON.parse(json);
  const n = (k, one) => `${k} ${one}${k === 1 ? '' : 's'}`;
  return [n(r.domains.reduce((a, d) => a + d.mappings.length, 0), 'mapping'), n(r.faults.length, 'fault'), n(r.findings.length, 'finding')].join(' · ');
}

/** code-server processes whose config lives in a smoke run's temp dir (what the smoke run must not leave behind). */
const smokeServers = () => execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
  .split('\n').filter(l => /code-server\/out\/node\/entry\.js/.test(l) && /iommu-lens-start-/.test(l));

test('npm start (smoke mode) opens the workbench, which runs default.iommu.yaml by itself, and stops code-server', { timeout: 180000 }, async () => {
  const shot = path.join(ROOT, 'test-results/screenshots/start-smoke.png');
  fs.rmSync(shot, { force: true });
  const { code, out } = await run([], { IOMMU_LENS_START_SMOKE: '1' });
  assert.equal(code, 0, out);
  assert.match(out, /code-server is up \(http:\/\/127\.0\.0\.1:\d+\/healthz answers\)/, out);
  assert.match(out, /workbench URL http:\/\/127\.0\.0\.1:\d+\/\?folder=[^ ]*examples&payload=/, out);
  // the status bar of the automatic run counts what the CLI's run of the same file counts
  const counts = defaultCounts();
  assert.match(out, new RegExp(`smoke check passed: the workbench ran default\\.iommu\\.yaml \\(status bar: [^)]*${counts}\\)`), out);
  assert.ok(fs.statSync(shot).size > 10000, 'the smoke run saved its screenshot');
  assert.deepEqual(smokeServers(), [], 'code-server was stopped');
});

test('start.mjs refuses unknown options and bad ports with a usage line', { timeout: 30000 }, async () => {
  const bad = await run(['--frobnicate']);
  assert.equal(bad.code, 2);
  assert.match(bad.out, /start: unknown option "--frobnicate"\nusage: node scripts\/start\.mjs/);
  const port = await run(['--port', '70000']);
  assert.equal(port.code, 2);
  assert.match(port.out, /--port wants a port number 1\.\.65535, got "70000"/);
});
