// Raw page-table dumps a user can hold against m1n1's DART dump or a kernel debug print: every valid
// descriptor as its 64-bit value with the table it sits in, TTBR registers first on a DART.
// Ops: `io_pgtable_dump: { domain }` (all entries) and `io_pgtable_read: { domain, iova }` (the leaf's raw
// value, or null when unmapped; a number when below 2^53 so `expect: result` can check it). They work on any format; DART is where raw values matter most.
import { hex } from '../../core/format';
import type { PageTable } from '../../iommu/pgtable';
import { protToNames } from '../../iommu/pte-format';
import { registerOpHandler } from '../../runner/ops';
import { registerOpSchema } from '../../scenario/opspec';
import { DartFormat, dartSubpage } from './format';

export interface DumpEntry {
  level: number;               // walker level: 0 = TTBR registers on a DART
  name: string;                // TTBR[i], L1[idx], L2[idx] ...
  index: number;
  iova: string;                // first IOVA the entry covers
  table: string | null;        // physical address of the table holding it (null: a register)
  raw: string;                 // the descriptor, 0x + 16 hex digits (TTBR: the 32-bit register)
  kind: 'table' | 'leaf';
  addr: string;                // next table or output address
  prot?: string[];
  subpage?: { start: number; end: number };
}

function levelName(pt: PageTable, level: number, index: number): string {
  if (pt.fmt.registerRoot) return level === 0 ? `TTBR[${index}]` : `L${level}[0x${index.toString(16).padStart(3, '0')}]`;
  return `L${level}[0x${index.toString(16).padStart(3, '0')}]`;
}

export function dumpPageTable(pt: PageTable): DumpEntry[] {
  const out: DumpEntry[] = [];
  const dart = pt.fmt instanceof DartFormat;
  for (const e of pt.dump()) {
    const lo = parseInt(e.raw.slice(10), 16), hi = parseInt(e.raw.slice(2, 10), 16);
    const register = dart && e.level === 0;
    const entry: DumpEntry = {
      level: e.level, name: levelName(pt, e.level, e.index), index: e.index, iova: hex(e.iova),
      table: register ? null : hex(e.table), raw: register ? '0x' + lo.toString(16).padStart(8, '0') : e.raw,
      kind: e.type === 'leaf' ? 'leaf' : 'table', addr: hex(e.addr),
    };
    if (e.type === 'leaf') {
      entry.prot = protToNames(pt.fmt.decode(lo, hi, e.level).prot);
      if (dart) entry.subpage = dartSubpage(hi);
    }
    out.push(entry);
  }
  return out;
}

/** One line per entry, indented by level: `TTBR[0] 0x80800004 -> 0x800004000`. */
export function dumpLines(entries: readonly DumpEntry[]): string[] {
  return entries.map(e => `${'  '.repeat(e.level)}${e.name} ${e.raw} ${e.kind === 'leaf' ? `iova ${e.iova} -> ${e.addr} ${(e.prot ?? []).join(',')}` : `-> ${e.addr}`}`);
}

registerOpSchema({ name: 'io_pgtable_dump', doc: 'raw dump of a paging domain\'s page table (TTBRs, table and leaf descriptors)', args: { object: {
  domain: { type: 'handle', required: true, doc: 'domain' },
} } });
registerOpSchema({ name: 'io_pgtable_read', doc: 'the raw leaf descriptor translating an IOVA (a number; a hex string above 2^53), null when unmapped', args: { object: {
  domain: { type: 'handle', required: true, doc: 'domain' },
  iova: { type: 'u64', required: true, doc: 'IO virtual address' },
} } });

registerOpHandler('io_pgtable_dump', (ctx, a) => {
  const d = ctx.domain('domain', a.domain);
  if (!d.pgtable) return { format: null, entries: [] };
  const entries = dumpPageTable(d.pgtable);
  for (const line of dumpLines(entries)) ctx.k.printk('debug', line, d.id);
  return { format: d.pgtable.fmt.name, entries };
});

registerOpHandler('io_pgtable_read', (ctx, a) => {
  const d = ctx.domain('domain', a.domain);
  if (!d.pgtable) return null;
  const steps = d.pgtable.walk(a.iova);
  const last = steps[steps.length - 1];
  if (!last || last.outcome !== 'leaf') return null;
  // A number when exact (every DART PTE is below 2^53), so `expect: { result: 0x… }` can check it.
  const value = parseInt(last.raw.slice(2), 16);
  return Number.isSafeInteger(value) ? value : last.raw;
});
