// `kernel:` — the CPU page size and the kernel configuration choices the simulator follows. A preset's
// kernel defaults are applied first, then the file's keys override them one by one.
import type { KernelConfig } from './types';
import { ValidateCtx, boolValue, expectMap, expectScalar, fail, freeValue, unknownKey } from './args';
import { BadValue, parseLiteral } from './values';
import { YEntry, YMap, YNode, YScalar, YSeq, isNullScalar } from './yaml-nodes';

const KERNEL_KEYS = ['page_size', 'large_iommu_pages', 'dma_strict', 'swiotlb', 'version', 'options'];
const PAGE_SIZES = [4096, 16384, 65536];
/** 6.12, 4.19.0, 6.13-rc2 */
const VERSION = /^[1-9][0-9]*\.[0-9]+(?:\.[0-9]+)?(?:-rc[0-9]+)?$/;

export function defaultKernel(): KernelConfig {
  return { page_size: 4096, large_iommu_pages: false, dma_strict: true, swiotlb: true, options: {} };
}

/** Apply a `kernel:` map onto `k` (in place). */
export function applyKernel(k: KernelConfig, node: YNode, file: string): void {
  if (isNullScalar(node)) return;
  const cx: ValidateCtx = { file, refs: null };
  const map = expectMap(node, 'kernel', cx);
  for (const e of map.entries) applyKernelKey(k, e, cx);
}

function applyKernelKey(k: KernelConfig, e: YEntry, cx: ValidateCtx): void {
  const v = e.value;
  switch (e.key) {
    case 'page_size': {
      const s = expectScalar(v, 'kernel page_size', cx, '4K, 16K or 64K');
      const n = parseLiteral(s.text, { suffix: true });
      if (n instanceof BadValue) fail(cx, s, `kernel page_size: ${n.message}`);
      if (!PAGE_SIZES.includes(n)) fail(cx, s, `kernel page_size: ${s.text} is not a page size Linux supports here; expected 4K, 16K or 64K`);
      k.page_size = n;
      return;
    }
    case 'large_iommu_pages':
    case 'dma_strict':
    case 'swiotlb':
      k[e.key] = boolValue(v, `kernel ${e.key}`, cx);
      return;
    case 'version': {
      const s = expectScalar(v, 'kernel version', cx, 'a release such as 6.12');
      if (!VERSION.test(s.text)) fail(cx, s, `kernel version: expected a release such as 6.12 or 4.19, got '${s.text}'`);
      k.version = s.text;
      return;
    }
    case 'options': {
      if (isNullScalar(v)) return;
      const opts = freeValue(expectMap(v, 'kernel options', cx), 'kernel options', cx) as Record<string, KernelConfig['options'][string]>;
      Object.assign(k.options, opts);
      return;
    }
    default:
      unknownKey(cx, e, KERNEL_KEYS, ' in kernel');
  }
}

/** A preset's kernel defaults (plain JS values) as a tree, every node at line 1 column 1 of preset:NAME. */
export function jsToTree(value: unknown): YNode {
  if (Array.isArray(value)) return new YSeq(value.map(jsToTree), 1, 1);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(([key, v]) => ({ key, keyLine: 1, keyCol: 1, value: jsToTree(v) }));
    return new YMap(entries, 1, 1);
  }
  if (value === null || value === undefined) return new YScalar('', true, 1, 1);
  return new YScalar(String(value), typeof value !== 'string', 1, 1);
}
