// Argument and result types of the IOVA allocator (simulator/dma/iova.ts re-exports them).

import type { ErrnoResult } from '../core/errno';
import type { IovaFinding } from './iova-findings';

export interface IovaDomainOptions {
  /** CPU PAGE_SIZE in bytes */
  pageSize: number;
  /** the unmerged series allowing granule > PAGE_SIZE */
  largePages: boolean;
  /** CPUs with their own rcache magazines (default 1) */
  cpus?: number;
}

/** init_iova_domain refused: a kernel BUG (the caller turns it into an oops) or an invalid argument. */
export interface IovaRefusal {
  refused: true;
  bug: boolean;
  errno?: ErrnoResult;
  message: string;
}

export interface IovaRange { pfnLo: number; pfnHi: number }
export interface IovaRangeInfo extends IovaRange {
  fast: boolean;       // allocated by alloc_iova_fast
  cached: boolean;     // freed by free_iova_fast, still allocated in the tree, pfn in an rcache magazine
  reserved: boolean;   // made by reserve_iova
}

export interface IovaFastAlloc {
  pfn: number | null;          // null where the kernel returns 0
  pages: number;               // size after rounding (what the range reserves)
  fromCache: boolean;
  flushed: boolean;            // the first attempt failed and all caches were dropped before the retry
  findings: readonly IovaFinding[];
  oops?: string;               // set when the kernel would crash (no rcaches); nothing else happened
}

export interface IovaFreeResult {
  freed: IovaRange | null;     // the range removed from the tree, if any
  findings: readonly IovaFinding[];
}

export interface IovaFastFree extends IovaFreeResult {
  cached: boolean;             // the pfn went into an rcache magazine
  oops?: string;
}

export interface IovaCursorState {
  cachedNode: IovaRange | null;    // null: the anchor (top of the space)
  cached32Node: IovaRange | null;
  max32AllocSize: number;
  dma32bitPfn: number;
}

/** Bad arguments from the simulator's caller (not a kernel condition): names the function and the value. */
export class IovaArgumentError extends RangeError {
  override name = 'IovaArgumentError';
}
