// Loaded by the real extension host as the "extension tests" module (extensionTestsPath) of a code-server
// workbench opened on an empty folder, so nothing has activated IOMMU Lens yet. Times
// vscode.extensions.getExtension(ID).activate() - module load plus activate() - for IOMMU Lens and, as the
// floor, for a no-op extension installed next to it (in either order, IOMMU_LENS_BENCH_ORDER); writes the figures to $IOMMU_LENS_BENCH_OUT.
'use strict';
const fs = require('node:fs');

async function timeActivation(vscode, id) {
  const ext = vscode.extensions.getExtension(id);
  if (!ext) return { found: false };
  if (ext.isActive) return { found: true, wasActive: true };
  const t0 = performance.now();
  await ext.activate();
  return { found: true, wasActive: false, ms: performance.now() - t0 };
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
      result.subject = await timeActivation(vscode, subjectId);
      result.noop = await timeActivation(vscode, noopId);
    } else {
      result.noop = await timeActivation(vscode, noopId);
      result.subject = await timeActivation(vscode, subjectId);
    }
  } catch (e) {
    result.error = String(e && e.stack || e);
  }
  if (out) fs.writeFileSync(out, JSON.stringify(result));
};
