// vsix-size and activation. The package step comes first: `npm run package -- -o FILE` builds dist/ and
// packs it, and activation then loads that fresh dist/extension.js.
//   vsix-size   bytes of the .vsix; floor: the compressed bytes of the entries the extension cannot run without
//               (package.json, dist/extension.js and dist/engine.js, the webview bundle, the tree-sitter wasm, the vsix manifest)
//   activation  vscode.extensions.getExtension(ID).activate() in the real extension host of a code-server
//               workbench (test/e2e/harness.mjs), opened on an empty folder; floor: the same call for a no-op
//               extension installed beside it. When code-server cannot run, activation-fallback.ts loads
//               dist/extension.js with a stand-in `vscode` module instead and says so in the note.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sig } from '../lib/stats';
import { zipEntries, type ZipEntry } from '../lib/zip';
import { errorText, ran, skipped, type MeasureContext, type ModuleMeasure, type Outcome } from '../lib/types';
import { fallbackActivation } from './activation-fallback';

const ACTIVATION_RUNS = 5;
const EXTENSION_ID = 'iommu-lens.iommu-lens';
const NOOP_ID = 'iommu-lens-bench.noop';

const RUNTIME_ENTRY = /^(\[Content_Types\]\.xml|extension\.vsixmanifest|extension\/package\.json|extension\/dist\/(extension\.js|engine\.js|webview\.js|webview\.css|[^/]+\.wasm))$/;

type Packed = { ok: true; how: string; problem?: string; built: boolean } | { ok: false; why: string; built: boolean };

function npm(ctx: MeasureContext, args: string[], timeout = 200_000) {
  return spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd: ctx.root, encoding: 'utf8', timeout, input: '' });
}

/**
 * `npm run package -- -o OUT` when the script exists and works. When it fails, the reason is kept and the
 * package is made anyway with vsce directly (after `npm run build`), with base URLs for README links if
 * that is what vsce refused, so the size is still the real package's.
 */
function packageVsix(ctx: MeasureContext, out: string): Packed {
  const pkg = JSON.parse(fs.readFileSync(path.join(ctx.root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  let problem: string | undefined;
  if (pkg.scripts?.package) {
    const r = npm(ctx, ['run', 'package', '--', '-o', out]);
    if (r.status === 0 && fs.existsSync(out)) return { ok: true, how: 'npm run package -- -o FILE', built: true };
    problem = `npm run package fails (${r.signal ?? `exit ${r.status}`}): ${lastLines(r.stderr || r.stdout, 2)}`;
  } else {
    problem = 'package.json has no "package" script';
  }
  const b = npm(ctx, ['run', 'build'], 120_000);
  if (b.status !== 0) return { ok: false, why: `${problem}; npm run build fails too: ${lastLines(b.stderr || b.stdout)}`, built: false };
  const vsce = path.join(ctx.root, 'node_modules', '.bin', 'vsce');
  const args = ['package', '--no-dependencies', '-o', out];
  if (/baseContentUrl|repository/.test(problem)) args.push('--baseContentUrl', 'https://example.invalid/', '--baseImagesUrl', 'https://example.invalid/');
  const r = fs.existsSync(vsce)
    ? spawnSync(vsce, args, { cwd: ctx.root, encoding: 'utf8', timeout: 200_000, input: '' })
    : spawnSync('npx', ['@vscode/vsce', ...args], { cwd: ctx.root, encoding: 'utf8', timeout: 200_000, input: '' });
  const how = `vsce ${args.join(' ').replace(out, 'FILE')}`;
  if (r.status !== 0 || !fs.existsSync(out)) return { ok: false, why: `${problem}; ${how} fails too: ${lastLines(r.stderr || r.stdout)}`, built: true };
  return { ok: true, how, problem, built: true };
}

function lastLines(s: string | null | undefined, n = 4): string {
  // eslint-disable-next-line no-control-regex
  const plain = (s ?? '').replace(/\x1b\[[0-9;]*m/g, '');
  return plain.trim().split('\n').filter(l => l.trim() && !/^npm (warn|error)/i.test(l)).slice(-n).join(' / ');
}

function vsixSize(ctx: MeasureContext): { outcome: Outcome; built: boolean } {
  const out = path.join(ctx.tmp, 'iommu-lens.vsix');
  ctx.log('vsix-size: packaging (build + vsce) ...');
  const p = packageVsix(ctx, out);
  if (!p.ok) return { outcome: { kind: 'error', message: p.why }, built: p.built };
  const bytes = fs.statSync(out).size;
  const entries = zipEntries(out);
  const runtime = entries.filter(e => RUNTIME_ENTRY.test(e.name));
  const floorBytes = runtime.reduce((n, e) => n + e.compressed, 0);
  const largest = [...entries].sort((a, b) => b.compressed - a.compressed).slice(0, 6)
    .map((e: ZipEntry) => `${e.name.replace(/^extension\//, '')} ${sig(e.compressed / 1e6)} MB`);
  const suspicious = entries.filter(e => /\.map$|\/test\/|\.ts$/.test(e.name)).map(e => e.name);
  return {
    built: true,
    outcome: ran([bytes / 1e6], [floorBytes / 1e6], 'compressed bytes of package.json, dist/extension.js + dist/engine.js, the webview bundle, the wasm files and the vsix manifest', {
      note: `${p.problem ? `${p.problem}; ` : ''}packed with ${p.how}; MB = 10^6 bytes`,
      extra: { bytes, entries: entries.length, largest, ...(suspicious.length ? { unexpectedEntries: suspicious.slice(0, 10) } : {}) },
    }),
  };
}

/** ms: the probe's own timing of activate(); cpuMs: the host's CPU time meanwhile; hostMs: the extension host's marks (load start -> activated). */
interface Timing { found: boolean; wasActive?: boolean; ms?: number; cpuMs?: number; hostMs?: number | null }

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}

/** The host's figure when it kept one, else the probe's; null when neither exists (activated before the probe, no marks). */
function figure(t: Timing | undefined): number | null {
  if (!t?.found) return null;
  if (typeof t.hostMs === 'number') return t.hostMs;
  return typeof t.ms === 'number' ? t.ms : null;
}

interface ProbeResult {
  vscodeVersion?: string;
  error?: string;
  subject?: Timing;
  noop?: Timing;
}

/** A no-op extension for the floor: activates on nothing, returns nothing. */
function writeNoopExtension(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'noop', publisher: 'iommu-lens-bench', version: '0.0.1', engines: { vscode: '^1.90.0' }, main: './extension.js', activationEvents: [],
  }, null, 2));
  fs.writeFileSync(path.join(dir, 'extension.js'), "'use strict';\nexports.activate = function activate() { return {}; };\n");
}

async function realActivation(ctx: MeasureContext): Promise<Outcome> {
  const harnessFile = path.join(ctx.root, 'test', 'e2e', 'harness.mjs');
  if (!fs.existsSync(harnessFile)) return skipped('test/e2e/harness.mjs is not there yet');
  const e2e = await import(harnessFile) as {
    startCodeServer(): Promise<{ baseUrl: string; workspace: string; tmp: string; stop(): Promise<void> }>;
    launchBrowser(): Promise<{ close(): Promise<void> }>;
    runExtensionHostTests(browser: unknown, server: unknown, o: { extensionTestsPath: string; extensionEnvironment?: Record<string, string>; timeoutMs?: number; log?: (l: string) => void }): Promise<unknown>;
  };
  for (const f of ['startCodeServer', 'launchBrowser', 'runExtensionHostTests'] as const) {
    if (typeof e2e[f] !== 'function') return skipped(`test/e2e/harness.mjs does not export ${f} yet`);
  }
  ctx.log('activation: starting code-server ...');
  const server = await e2e.startCodeServer();
  const browser = await e2e.launchBrowser();
  try {
    writeNoopExtension(path.join(server.tmp, 'extensions', 'iommu-lens-bench.noop-0.0.1'));
    // an empty folder: nothing in it matches workspaceContains:**/*.iommu.yaml, so IOMMU Lens is not active yet
    const empty = path.join(server.tmp, 'empty-workspace');
    fs.mkdirSync(empty, { recursive: true });
    const values: number[] = [], floors: number[] = [];
    let version = '', noopMissing = false, startupActivated = 0;
    const probeMs: number[] = [], cpu: number[] = [], noopCpu: number[] = [];
    // with --cpu-prof, one more run with the host's profiler on, not counted
    const profileRun = ctx.profileDir ? ACTIVATION_RUNS : -1;
    for (let i = 0; i < ACTIVATION_RUNS + (profileRun >= 0 ? 1 : 0); i++) {
      const out = path.join(ctx.tmp, `activation-${i}.json`);
      const profile: Record<string, string> = i === profileRun
        ? { IOMMU_LENS_BENCH_PROFILE: path.join(ctx.profileDir!, `activation-exthost-${Date.now()}.cpuprofile`) } : {};
      const code = await e2e.runExtensionHostTests(browser, { ...server, workspace: empty }, {
        extensionTestsPath: path.join(ctx.root, 'bench', 'activation-probe.cjs'),
        extensionEnvironment: {
          IOMMU_LENS_BENCH_OUT: out, IOMMU_LENS_BENCH_ID: EXTENSION_ID, IOMMU_LENS_BENCH_NOOP_ID: NOOP_ID,
          IOMMU_LENS_BENCH_ORDER: i % 2 ? 'subject-first' : 'noop-first', ...profile,
        },
        timeoutMs: 120_000, log: () => {},
      });
      if (!fs.existsSync(out)) return { kind: 'error', message: `the probe wrote nothing (workbench exit code ${String(code)})` };
      const r = JSON.parse(fs.readFileSync(out, 'utf8')) as ProbeResult;
      if (r.error) return { kind: 'error', message: `the probe failed in the extension host: ${r.error.split('\n')[0]}` };
      if (!r.subject?.found) return { kind: 'error', message: `${EXTENSION_ID} is not known to the extension host` };
      const v = figure(r.subject);
      if (v === null) return { kind: 'error', message: `${EXTENSION_ID} was already active when the probe ran and the host kept no activation marks` };
      if (r.subject.wasActive) startupActivated++;
      if (i === profileRun) { ctx.log(`activation: profiled run ${v.toFixed(1)} ms -> ${profile.IOMMU_LENS_BENCH_PROFILE}`); continue; }
      values.push(v);
      if (typeof r.subject.ms === 'number') probeMs.push(r.subject.ms);
      if (typeof r.subject.cpuMs === 'number') cpu.push(r.subject.cpuMs);
      if (typeof r.noop?.cpuMs === 'number') noopCpu.push(r.noop.cpuMs);
      const f = figure(r.noop);
      if (f !== null) floors.push(f); else noopMissing = true;
      version = r.vscodeVersion ?? '';
      ctx.log(`activation: run ${i + 1}: ${v.toFixed(1)} ms, host CPU ${r.subject.cpuMs?.toFixed(1) ?? '-'} ms (no-op extension ${f?.toFixed(1) ?? '-'} ms, CPU ${r.noop?.cpuMs?.toFixed(1) ?? '-'} ms)`);
    }
    return ran(values, noopMissing ? null : floors, 'activation of a no-op extension in the same extension host', {
      note: `real extension host: code-server (VS Code ${version}), dist/ as npm run package builds it (production); ` +
        `the host's own activation marks (willLoadExtensionCode -> ` +
        `didActivateExtension: code loading + activate() + its promise), each run a fresh workbench on an empty folder` +
        (startupActivated ? `; in ${startupActivated} of ${values.length + (profileRun >= 0 ? 1 : 0)} runs IOMMU Lens was already active before the probe (a startup activation event fired)` : '') +
        (noopMissing ? '; the no-op extension was not picked up, no floor' : '') +
        (cpu.length ? '; cpu = CPU time of the extension host process during the activate() call' : ''),
      cpu,
      extra: {
        ...(probeMs.length ? { probeActivateCallMedianMs: sig(median(probeMs)) } : {}),
        ...(noopCpu.length ? { noopCpuMedianMs: sig(median(noopCpu)) } : {}),
      },
    });
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
  }
}

async function activation(ctx: MeasureContext, distFresh: boolean): Promise<Outcome> {
  let real: Outcome;
  try {
    real = await realActivation(ctx);
  } catch (e) {
    real = { kind: 'error', message: errorText(e) };
  }
  if (real.kind === 'ran') {
    return distFresh ? real : { ...real, note: `${real.note}; the build failed, so dist/extension.js may be stale` };
  }
  const why = real.kind === 'skipped' ? real.reason : real.message.split('\n')[0];
  ctx.log(`activation: the real extension host is not usable (${why}); falling back to a stand-in vscode module`);
  const fb = await fallbackActivation(ctx);
  if (fb.kind !== 'ran') return fb;
  return { ...fb, note: `NOT the real extension host (${why}): ${fb.note}` };
}

export const measure: ModuleMeasure = async (names, ctx) => {
  const out: Record<string, Outcome> = {};
  let built = false;
  if (names.includes('vsix-size')) {
    try {
      const v = vsixSize(ctx);
      out['vsix-size'] = v.outcome;
      built = v.built;
    } catch (e) {
      out['vsix-size'] = { kind: 'error', message: errorText(e) };
    }
  }
  if (names.includes('activation')) {
    if (!names.includes('vsix-size')) {
      // the build that ships: what npm run package makes (esbuild.mjs --production, minified)
      ctx.log('activation: node esbuild.mjs --production ...');
      built = spawnSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: ctx.root, encoding: 'utf8', timeout: 120_000 }).status === 0;
    }
    if (!fs.existsSync(path.join(ctx.root, 'dist', 'extension.js'))) out.activation = skipped('dist/extension.js is not built (npm run build fails)');
    else out.activation = await activation(ctx, built);
  }
  return out;
};
