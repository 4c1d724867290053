// Plain view-model nodes for the sidebar trees and the formatting they share. No vscode here: the provider
// turns these into TreeItems, and unit tests read them directly.
import { hex, sizeLabel } from '../../simulator/core/format';
import { addrValue } from './touched';

export type NodeKind = 'iommu' | 'group' | 'device' | 'domain' | 'mapping' | 'reserved' | 'buffer' | 'buffer-dma'
  | 'sva' | 'iovad' | 'iova-range' | 'folder' | 'fault' | 'finding' | 'expectation' | 'oops' | 'info';

export interface TreeNode {
  /** stable across refreshes (keeps expansion and selection), unique in its tree */
  id: string;
  kind: NodeKind;
  label: string;
  description?: string;
  /** Markdown */
  tooltip?: string;
  /** codicon id, optionally with a theme colour id */
  icon: string;
  iconColor?: string;
  /** space-separated tags for `viewItem =~ /\btag\b/` menu conditions: the kind plus copyable, mappable, hasSite ... */
  contextValue: string;
  expanded?: boolean;
  children: TreeNode[];
  /** what the node's actions act on */
  address?: string;
  site?: string;
  step?: number;
  /** 1-based line of the step in the scenario file */
  scenarioLine?: number;
  mapFocus?: { domain?: string; iova?: string; paddr?: string; dev?: string };
  /** identity for reveal: which domain/iova/device/fault/finding the node stands for */
  ref?: { dev?: string; domain?: string; iova?: string; size?: number; faultIndex?: number; findingIndex?: number };
}

/** Builds contextValue: the kind, then every flag that is set. */
export function tags(kind: NodeKind, flags: Record<string, boolean>): string {
  return [kind, ...Object.entries(flags).filter(([, on]) => on).map(([f]) => f)].join(' ');
}

/** `0xffffc000-0xffffffff` (inclusive end, as /proc/iomem prints ranges). */
export function rangeLabel(start: string | number, size: number): string {
  const s = addrValue(start);
  if (!Number.isFinite(s)) return String(start);
  return size > 0 ? `${hex(s)}-${hex(s + size - 1)}` : hex(s);
}

/** Size as the kernel developer reads it: `16K`, `0x1800` for inexact, bytes below 1K. */
export function sizeText(n: number): string {
  return sizeLabel(n);
}

/** [4096, 2097152] -> "0x201000 (4K | 2M)": the pgsize_bitmap the IOMMU driver sets. */
export function pgsizeText(sizes: number[]): string {
  if (!sizes.length) return '0 (no page sizes)';
  const bitmap = sizes.reduce((a, s) => a + s, 0);
  return `${hex(bitmap)} (${[...sizes].sort((a, b) => a - b).map(sizeLabel).join(' | ')})`;
}

/** ["read","write","noexec"] -> "RW noexec"; empty -> "none". */
export function protShort(prot: string[]): string {
  if (!prot.length) return 'none';
  const rw = (prot.includes('read') ? 'R' : '') + (prot.includes('write') ? 'W' : '');
  const rest = prot.filter(p => p !== 'read' && p !== 'write');
  return [rw, ...rest].filter(Boolean).join(' ');
}

/** IOMMU_READ | IOMMU_WRITE ... for tooltips. */
export function protFlags(prot: string[]): string {
  if (!prot.length) return '0';
  const names: Record<string, string> = { read: 'IOMMU_READ', write: 'IOMMU_WRITE', cache: 'IOMMU_CACHE',
    noexec: 'IOMMU_NOEXEC', mmio: 'IOMMU_MMIO', priv: 'IOMMU_PRIV' };
  return prot.map(p => names[p] ?? p).join(' | ');
}

/** Escapes Markdown so messages and names show literally. */
export function md(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, c => '\\' + c);
}

/** Inline code span that survives backticks in the value. */
export function code(s: string | number): string {
  const t = String(s).replace(/`/g, "'");
  return '`' + t + '`';
}

/** A two-column Markdown table under a bold title. Rows with an undefined value are left out. */
export function mdTable(title: string, rows: Array<[string, string | undefined]>, footer?: string): string {
  const body = rows.filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `| ${k} | ${String(v).replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`);
  return [`**${title}**`, '', '| | |', '|---|---|', ...body, ...(footer ? ['', footer] : [])].join('\n');
}

/** A value from a finding's `data`: addresses as hex, sizes with their label, the rest as JSON. */
export function dataValue(key: string, v: unknown): string {
  if (typeof v === 'number' && Number.isSafeInteger(v)) {
    if (/addr|iova|paddr|dma|pfn|start|end|base/i.test(key)) return code(hex(v));
    if (/size|len|granule|bytes|exposed/i.test(key)) return `${code(v)} (${sizeLabel(v)})`;
    return code(v);
  }
  if (typeof v === 'string') return code(v);
  return code(JSON.stringify(v));
}

/** Depth-first search over a forest. */
export function findNode(roots: TreeNode[], pred: (n: TreeNode) => boolean): TreeNode | undefined {
  for (const n of roots) {
    if (pred(n)) return n;
    const hit = findNode(n.children, pred);
    if (hit) return hit;
  }
  return undefined;
}

/** Walks a forest: visit(node, parent). */
export function walk(roots: TreeNode[], visit: (n: TreeNode, parent: TreeNode | undefined) => void, parent?: TreeNode): void {
  for (const n of roots) {
    visit(n, parent);
    walk(n.children, visit, n);
  }
}
