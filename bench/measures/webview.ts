// webview-first-paint / webview-frame: the address map with 100,000 mappings in headless Debian chromium.
// Bundles the webview as esbuild.mjs does (into the bench build directory, so dist/ is not touched), then runs
// bench/webview-child.mts, which drives webview/dev/harness.mts. Figures are the page's own paint timings
// (the map's stats: snapshot message handled — reading e.data, which deserializes it, included — -> first paint
// done; per-frame paint time while panning and zooming). Floor: the same page and gestures with an empty domain.
// The host side of the same snapshot (buildMapModel in the extension host, and the JSON VS Code makes of the
// message around its typed arrays) is measured here, in this bundled process, and reported in `extra`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildWebview } from '../lib/build';
import { cpuMs, nowMs, sig, summarize } from '../lib/stats';
import { errorText, ran, skipped, type MeasureContext, type ModuleMeasure, type Outcome } from '../lib/types';
import { syntheticReport } from '../../webview/synthetic';
import { buildMapModel } from '../../webview/model';

const HOST_RUNS = 5;

/**
 * The extension host's part of one snapshot: buildMapModel of the 100,000-mapping report (the first, cold call
 * and the median of the next ones, wall and CPU), and the message's serialization as VS Code's webview
 * postMessage does it (JSON with every typed array replaced by a reference; their buffers travel beside it).
 */
function hostSide(): Record<string, number> {
  const report = syntheticReport({ mappings: 100_000, seed: 3 });
  const wall: number[] = [];
  const cpu: number[] = [];
  const ser: number[] = [];
  let model = buildMapModel(report, 'd1');
  for (let i = 0; i <= HOST_RUNS; i++) {
    const w0 = nowMs();
    const c0 = cpuMs();
    model = buildMapModel(report, 'd1');
    wall.push(nowMs() - w0);
    cpu.push(cpuMs() - c0);
    const s0 = nowMs();
    JSON.stringify({ type: 'snapshot', model }, (_k, v: unknown) => (ArrayBuffer.isView(v) ? { $$ref: true, byteLength: v.byteLength } : v));
    ser.push(nowMs() - s0);
  }
  return { hostBuildFirstMs: sig(wall[0]), hostBuildMs: sig(summarize(wall.slice(1)).median),
    hostBuildCpuMs: sig(summarize(cpu.slice(1)).median), hostSerializeMs: sig(summarize(ser.slice(1)).median) };
}

interface ChildResult {
  firstPaint: { subject: number[]; floor: number[]; cloneMs: number; deserializeMs: number; receiveMs: number; indexMs: number;
    sceneMs: number; paintMs: number };
  frame: { subject: number[]; floor: number[] };
  errors: string[];
  mappings: number;
  modelMB: number;
}

function missing(root: string): string | null {
  for (const f of ['webview/dev/harness.mts', 'webview/synthetic.ts', 'webview/model.ts', 'webview/main.ts']) {
    if (!fs.existsSync(path.join(root, f))) return `${f} is not there yet`;
  }
  const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!fs.existsSync(chromium)) return `no chromium at ${chromium} (set CHROMIUM)`;
  return null;
}

async function both(ctx: MeasureContext): Promise<Record<string, Outcome>> {
  const all = (o: Outcome) => ({ 'webview-first-paint': o, 'webview-frame': o });
  const why = missing(ctx.root);
  if (why) return all(skipped(why));
  const dist = path.join(ctx.buildDir, 'webview');
  const built = await buildWebview(ctx.root, dist);
  if ('error' in built) return all(skipped(built.error));
  const host = hostSide();
  const resultFile = path.join(ctx.tmp, 'webview-result.json');
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ctx.root, 'bench', 'webview-child.mts'), dist, resultFile], {
    cwd: ctx.root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 400_000,
  });
  if (r.status !== 0 || !fs.existsSync(resultFile)) {
    const msg = (r.stderr || r.stdout || '').trim().split('\n').filter(l => l.trim()).slice(0, 8).join('\n');
    return all({ kind: 'error', message: `the chromium harness failed (${r.signal ?? `exit ${r.status}`}): ${msg}` });
  }
  const c = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as ChildResult;
  const note = c.errors.length ? `page reported: ${c.errors.slice(0, 3).join(' | ')}` : undefined;
  return {
    'webview-first-paint': ran(c.firstPaint.subject, c.firstPaint.floor,
      'first paint of the same page with an empty domain (empty canvas)', {
        note: [`in-page time from the snapshot message to the end of the first paint: receiving it (deserialize + check), indexing, waiting for the frame, scene + canvas paint; extra gives that breakdown (medians) and the host side (buildMapModel, serializing); ${c.mappings} mappings`, note].filter(Boolean).join('; '),
        extra: { deserializeMs: sig(c.firstPaint.deserializeMs), receiveMs: sig(c.firstPaint.receiveMs), indexMs: sig(c.firstPaint.indexMs),
          sceneMs: sig(c.firstPaint.sceneMs), paintMs: sig(c.firstPaint.paintMs), structuredCloneMs: sig(c.firstPaint.cloneMs),
          modelMB: sig(c.modelMB), ...host },
      }),
    'webview-frame': c.frame.subject.length
      ? ran(c.frame.subject, c.frame.floor, 'paint time of the same gestures on an empty domain', {
        note: ['each run is one painted frame during zoom-in, drag and zoom-out (the map\'s own paint timing, canvas work only)', note].filter(Boolean).join('; '),
        extra: { p95Ms: sig(quantile(c.frame.subject, 0.95)), frames: c.frame.subject.length },
      })
      : { kind: 'error', message: 'no frame was painted while panning and zooming' },
  };
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
}

export const measure: ModuleMeasure = async (names, ctx) => {
  let out: Record<string, Outcome>;
  try {
    out = await both(ctx);
  } catch (e) {
    const o: Outcome = { kind: 'error', message: errorText(e) };
    out = { 'webview-first-paint': o, 'webview-frame': o };
  }
  return Object.fromEntries(names.map(n => [n, out[n] ?? { kind: 'error', message: `no measurement '${n}' here` }]));
};
