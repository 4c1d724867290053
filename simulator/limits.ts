// Resource limits of the simulator and of the inputs it reads. A limit is never a silent truncation: going
// over one is an error that names the limit, the value that broke it and where to read more (docs/limits.md).
// The numbers keep the extension host responsive and its memory bounded whatever a file asks for, while
// leaving room for the large runs the benchmark measures (a million steps, a million live mappings).
import type { Kernel } from './kernel';
import { hex, sizeLabel } from './core/format';

const KiB = 1024;
const MiB = 1024 * KiB;

export const LIMITS = {
  /** bytes of a scenario file (a million-step file is about 80 MiB) */
  scenarioBytes: 256 * MiB,
  /** scenario files larger than this must stay in the fast parser's plain YAML/JSON subset (the `yaml` package is slow) */
  yamlPackageBytes: 128 * KiB,
  /** steps in one scenario */
  steps: 2_000_000,
  /** nested maps and lists in a scenario file (real scenarios use 6 or 7) */
  nestingDepth: 64,
  /** nodes that YAML aliases (*name) may add by repeating anchored content */
  aliasNodes: 100_000,
  /** entries of one scatterlist argument */
  sgEntries: 1 << 20,
  /** page-table entries one step may write, and device pages one access may touch */
  pagesPerStep: 1 << 18,
  /** events kept for one step (the rest are counted, not kept) */
  eventsPerStep: 100_000,
  /** pages of simulated RAM (64 GiB of 4K pages, 256 GiB of 16K pages, 1 TiB of 64K pages) */
  memoryPages: 1 << 24,
  /** bytes of page-table descriptors one simulated machine may hold (about 16M live 4K leaf entries) */
  pageTableBytes: 128 * MiB,
  /** bytes of a kernel trace file given to import-trace */
  traceBytes: 256 * MiB,
  /** characters of one trace line; longer lines are skipped and listed (importTrace's default) */
  traceLineLength: 16 * KiB,
  /** bytes of a C source file given to the analysis */
  cSourceBytes: 16 * MiB,
  /**
   * brackets nested in a C file, and depth of its syntax tree: tree-sitter's wasm code recurses and overruns
   * its heap (near 2500 nested initialisers while parsing; Node.parent from about 340 levels down, toString
   * near 700); kernel code stays well under 100
   */
  cNestingDepth: 200,
} as const;

export type LimitName = keyof typeof LIMITS;

export const LIMITS_DOC = 'docs/limits.md';

/**
 * A limit was exceeded while a step ran. The session turns it into a ScenarioError at the step's position
 * (the argument named by `arg` when given), so the user sees FILE:LINE:COL and this message.
 */
export class LimitError extends Error {
  constructor(readonly limit: LimitName, message: string, readonly arg?: string) {
    super(`${message} (simulator limit ${limit}; see ${LIMITS_DOC})`);
  }
}

/** 1.5 MiB, 256 MiB: file sizes as people read them. */
function mib(bytes: number): string {
  const m = bytes / MiB;
  return `${Number.isInteger(m) ? m : m.toFixed(1)} MiB`;
}

/**
 * The message for an input over its size limit, or null. `length` is in bytes (or characters for text
 * already read); callers add the position or print it as one line.
 */
export function fileTooLarge(what: string, length: number, limit: 'scenarioBytes' | 'traceBytes' | 'cSourceBytes'): string | null {
  if (length <= LIMITS[limit]) return null;
  return `${what} is ${mib(length)}; the largest accepted is ${mib(LIMITS[limit])} (simulator limit ${limit}; see ${LIMITS_DOC})`;
}

/** Checks a platform's RAM before a kernel is built for it: whole pages, and no more pages than memoryPages. */
export function memoryProblem(base: number, size: number, pageSize: number): string | null {
  if (base % pageSize !== 0) return `memory base ${hex(base)} is not a multiple of PAGE_SIZE (${hex(pageSize)})`;
  if (size % pageSize !== 0) return `memory size ${hex(size)} is not a multiple of PAGE_SIZE (${hex(pageSize)})`;
  const pages = size / pageSize;
  if (pages > LIMITS.memoryPages) {
    return `memory size ${sizeLabel(size)} is ${pages} pages of ${sizeLabel(pageSize)}; the simulator models at most ${LIMITS.memoryPages} pages ` +
      `(${sizeLabel(LIMITS.memoryPages * pageSize)} with this PAGE_SIZE) (simulator limit memoryPages; see ${LIMITS_DOC})`;
  }
  return null;
}

// Per-kernel accounting. Kept beside the kernel rather than in it, so the kernel's shape stays the core's.
// The per-step page budget is armed by the session at each step; code that drives a Kernel directly (unit
// tests, the benchmark's hot loops) is only held to the per-call limit.
interface Budget { armed: boolean; pages: number; tableBytes: number }
const budgets = new WeakMap<Kernel, Budget>();
/** kernels whose step budget is armed now: 0 outside session steps, so hot loops skip the lookup */
let armedKernels = 0;

function budgetOf(k: Kernel): Budget {
  let b = budgets.get(k);
  if (!b) budgets.set(k, b = { armed: false, pages: 0, tableBytes: 0 });
  return b;
}

/** A step starts (armed) or ends (disarmed): its page budget is full again. */
export function armStepBudget(k: Kernel, armed: boolean): void {
  const b = budgetOf(k);
  if (b.armed !== armed) armedKernels += armed ? 1 : -1;
  b.armed = armed;
  b.pages = 0;
}

/** True when charging `pages` now can neither fail nor need counting (no step budget armed, within one call's limit). */
export function pagesFreeOfBudget(pages: number): boolean {
  return armedKernels === 0 && pages <= LIMITS.pagesPerStep;
}

/**
 * Charges `pages` page-sized units of work (entries written, pages a device access touches) to the running
 * step. Throws LimitError, before the caller changes any state, when the step (or, outside a session, this one
 * call) would go over pagesPerStep. `what` names the work in that message; hot paths pass a function so the
 * text is only built when the limit is hit.
 */
export function chargePages(k: Kernel, pages: number, what: string | (() => string), arg?: string): void {
  if (armedKernels === 0 && pages <= LIMITS.pagesPerStep) return;
  const b = budgets.get(k);
  const used = b?.armed ? b.pages : 0;
  if (used + pages > LIMITS.pagesPerStep) {
    const needs = pages > LIMITS.pagesPerStep ? `more than ${LIMITS.pagesPerStep}` : String(pages);
    const before = used ? ` after ${used} already written or touched by this step` : '';
    const label = typeof what === 'function' ? what() : what;
    throw new LimitError('pagesPerStep', `${label} needs ${needs} page-table entries or device pages${before}; ` +
      `one step may write or touch at most ${LIMITS.pagesPerStep}`, arg);
  }
  if (b?.armed) b.pages = used + pages;
}

/** Page-table descriptor bytes allocated (positive) or freed (negative) by the kernel's io-pgtable users. */
export function chargePageTable(k: Kernel, bytes: number): void {
  const b = budgetOf(k);
  if (bytes > 0 && b.tableBytes + bytes > LIMITS.pageTableBytes) {
    throw new LimitError('pageTableBytes', `the page tables of this machine would grow past ${sizeLabel(LIMITS.pageTableBytes)} ` +
      `of descriptors (${sizeLabel(b.tableBytes)} live)`);
  }
  b.tableBytes = Math.max(0, b.tableBytes + bytes);
}

/**
 * Number of pages iommu_map() would write for [iova, iova+size) with `bitmap` (iommu_pgsize per chunk),
 * counting no further than `cap + 1`: cheap even when the range is huge. Small ranges (up to 64 smallest
 * pages) are charged as smallest pages without counting, which keeps the one-page hot path free.
 */
export function countMapPages(bitmap: readonly number[], iova: number, paddr: number, size: number, cap: number): number {
  if (bitmap.length === 0 || size <= 0) return 0;
  const smallest = Math.ceil(size / bitmap[0]);
  if (smallest <= 64) return smallest;
  // The largest page bounds the count from below: if even that needs too many, stop here.
  if (size / bitmap[bitmap.length - 1] > cap) return cap + 1;
  let done = 0;
  let n = 0;
  while (done < size && n <= cap) {
    let pg = 0;
    for (const s of bitmap) {
      if (s > size - done || (iova + done) % s !== 0 || (paddr + done) % s !== 0) break;
      pg = s;
    }
    if (pg === 0) return n;            // misaligned: iommu_map refuses it before writing anything
    done += pg;
    n++;
  }
  return n;
}

/**
 * Offset of the first bracket ({, ( or [) nested deeper than cNestingDepth in C text, skipping comments and
 * string and character literals; -1 when there is none. One pass, no allocation.
 */
export function cNestingTooDeep(text: string): number {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 47 /* / */ && text.charCodeAt(i + 1) === 42 /* * */) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return -1;
      i = end + 1;
    } else if (c === 47 && text.charCodeAt(i + 1) === 47) {
      const end = text.indexOf('\n', i + 2);
      if (end < 0) return -1;
      i = end;
    } else if (c === 34 /* " */ || c === 39 /* ' */) {
      for (i++; i < n && text.charCodeAt(i) !== c && text.charCodeAt(i) !== 10; i++) if (text.charCodeAt(i) === 92) i++;
    } else if (c === 123 || c === 40 || c === 91) {
      if (++depth > LIMITS.cNestingDepth) return i;
    } else if (c === 125 || c === 41 || c === 93) {
      if (depth > 0) depth--;
    }
  }
  return -1;
}
