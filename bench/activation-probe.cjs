// Loaded by the real extension host as the "extension tests" module (extensionTestsPath) of a code-server
// workbench opened on an empty folder, so nothing has activated IOMMU Lens yet. Times
// vscode.extensions.getExtension(ID).activate() - module load plus activate() - for IOMMU Lens and, as the
// floor, for a no-op extension installed next to it (in either order, IOMMU_LENS_BENCH_ORDER), and reads the
// host's own activation marks (which also cover an activation some startup event triggered before the probe
// ran), and the host process's CPU time during the call; writes the figures to $IOMMU_LENS_BENCH_OUT. With $IOMMU_LENS_BENCH_PROFILE=FILE the activation of IOMMU Lens is also
// CPU-profiled into FILE (a run with the profiler on is slower: the orchestrator does not count it).
'use strict';
const fs = require('node:fs');

/** With IOMMU_LENS_BENCH_PROFILE=FILE, a CPU profile of the host while `fn` runs is written to FILE. */
async function profiled(file, fn) {
  if (!file) return fn();
  const inspector = require('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await post('Profiler.stop');
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}

/**
 * The extension host's own record of an activation (the marks behind Developer: Show Running Extensions):
 * willLoadExtensionCode -> didActivateExtension, i.e. code loading + activate() + its promise. Null when the
 * host keeps no such marks.
 */
function hostActivationMs(id) {
  const perf = globalThis.MonacoPerformanceMarks;
  if (!perf || typeof perf.getMarks !== 'function') return null;
  const marks = perf.getMarks();
  const at = name => { const m = marks.find(x => x.name === `code/extHost/${name}/${id}`); return m ? m.startTime : null; };
  const start = at('willLoadExtensionCode');
  const end = at('didActivateExtension');
  return start !== null && end !== null ? end - start : null;
}

async function timeActivation(vscode, id, profileFile) {
  const ext = vscode.extensions.getExtension(id);
  if (!ext) return { found: false };
  if (ext.isActive) return { found: true, wasActive: true, hostMs: hostActivationMs(id) };
  return profiled(profileFile, async () => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await ext.activate();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    // CPU of the whole host process meanwhile (on a loaded machine the wall clock mostly measures waiting for a core)
    return { found: true, wasActive: false, ms, cpuMs: (c.user + c.system) / 1000, hostMs: hostActivationMs(id) };
  });
}

exports.run = async function run() {
  const vscode = require('vscode');
  const out = process.env.IOMMU_LENS_BENCH_OUT;
  const result = { vscodeVersion: vscode.version };
  try {
    const noopId = process.env.IOMMU_LENS_BENCH_NOOP_ID || 'iommu-lens-bench.noop';
    const subjectId = process.env.IOMMU_LENS_BENCH_ID || 'iommu-lens.iommu-lens';
    // the first activation of a host may pay one-time costs: the orchestrator alternates who goes first
    if (process.env.IOMMU_LENS_BENCH_ORDER === 'subject-first') {
      result.subject = await timeActivation(vscode, subjectId, process.env.IOMMU_LENS_BENCH_PROFILE);
      result.noop = await timeActivation(vscode, noopId);
    } else {
      result.noop = await timeActivation(vscode, noopId);
      result.subject = await timeActivation(vscode, subjectId, process.env.IOMMU_LENS_BENCH_PROFILE);
    }
  } catch (e) {
    result.error = String(e && e.stack || e);
  }
  if (out) fs.writeFileSync(out, JSON.stringify(result));
};
