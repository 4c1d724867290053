// The text form of an imported trace: what `iommu-lens import-trace TRACE` prints. Long lists are cut
// (with a count of what was left out); --json has everything.
import { hex, sizeLabel } from '../core/format';
import type { ImportResult } from './import';
import type { ImportedDomain } from './import-report';

const MAX_ROWS = 200;
const MAX_LIST = 50;

/** Columns padded to their widest cell; the last column is not padded. */
export function alignTable(rows: string[][], indent = '  '): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return rows.map(r => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
}

function count(n: number, one: string, many = one + 's'): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

function more(shown: number, total: number, what: string): string[] {
  return total > shown ? [`  … ${total - shown} more ${what} (--json lists all)`] : [];
}

function sizeText(n: number): string {
  const l = sizeLabel(n);
  return l.startsWith('0x') || /^\d+$/.test(l) ? hex(n) : `${hex(n)} (${l})`;
}

function domainLines(d: ImportedDomain): string[] {
  const bytes = d.mappings.reduce((s, m) => s + m.size, 0);
  const notes = [
    d.devices.length ? `devices ${d.devices.join(', ')}` : 'no devices attached',
    d.default_of_group !== null && d.default_of_group !== undefined ? `default domain of group ${d.default_of_group}` : '',
    d.pre_trace ? 'attached before the trace began' : `attached at line ${d.line}`,
    d.granule_deduced ? `granule <= ${sizeLabel(d.granule)}` : '',
  ].filter(Boolean);
  const out = [`  ${d.id}  ${d.type}  ${notes.join('; ')}`,
    `    ${count(d.mappings.length, 'live mapping')}${d.mappings.length ? `, ${sizeText(bytes)} mapped` : ''}`];
  if (!d.mappings.length) return out;
  // each address column zero-padded to its own widest value, so digits line up
  const shown = d.mappings.slice(0, MAX_ROWS);
  const iovaWidth = Math.max(...shown.map(m => m.iova.length));
  const paddrWidth = Math.max(...shown.map(m => m.paddr.length));
  const pad = (h: string, w: number) => '0x' + h.slice(2).padStart(w - 2, '0');
  const rows = [['IOVA', 'SIZE', 'PADDR', 'MAPPED BY']];
  for (const m of shown) rows.push([pad(m.iova, iovaWidth), sizeText(m.size), pad(m.paddr, paddrWidth), m.owner ?? '']);
  return [...out, ...alignTable(rows, '    '), ...more(MAX_ROWS, d.mappings.length, 'mappings').map(l => '  ' + l)];
}

export function formatSummary(r: ImportResult, file: string): string {
  const rep = r.report;
  const out: string[] = [];
  out.push(`${file}: ${r.format === 'unknown' ? 'kernel trace' : r.format === 'ftrace' ? 'ftrace (tracing/trace) output' : 'trace-cmd report output'}, ${count(r.lines, 'line')}`);
  out.push(`  ${count(r.events, 'IOMMU/DMA event')} imported, ${count(r.ignored, 'other event')} ignored, ` +
    `${count(r.skippedCount, 'line')} skipped${r.stacks.length ? `, ${count(r.stacks.length, 'stack trace')}` : ''}`);
  if (r.lost) out.push(`  warning: the ring buffer lost ${count(r.lost, 'event')} (CPU:N [LOST n EVENTS]): mappings may be missing or stale`);
  if (!r.events) {
    out.push('  no IOMMU or DMA tracepoints found: enable them with',
      '    echo 1 > /sys/kernel/tracing/events/iommu/enable; echo 1 > /sys/kernel/tracing/events/dma/enable');
  }

  if (rep.devices.length) {
    out.push('', 'devices');
    const rows = [['DEVICE', 'GROUP', 'DOMAIN', 'DRIVER']];
    for (const d of rep.devices) {
      rows.push([d.name, d.group === null ? '-' : String(d.group), d.domain ?? '-', (d as { driver?: string }).driver ?? '']);
    }
    out.push(...alignTable(rows));
  }
  if (rep.groups.length) {
    out.push('', 'groups');
    const rows = [['GROUP', 'DEFAULT', 'CURRENT', 'DEVICES']];
    for (const g of rep.groups) rows.push([String(g.id), g.default_domain ?? '?', g.domain ?? '-', g.devices.join(', ')]);
    out.push(...alignTable(rows));
  }
  if (rep.domains.length) {
    out.push('', 'domains (one per attach; map/unmap events are placed by the DMA call that follows them, else by task)');
    for (const d of rep.domains as ImportedDomain[]) out.push(...domainLines(d));
  }
  if (rep.faults.length) {
    out.push('', `faults (${rep.faults.length})`);
    const rows = rep.faults.slice(0, MAX_LIST).map(f => {
      const x = f as typeof f & { line?: number; driver?: string; flags?: number };
      return [`line ${x.line}`, `${x.driver ? x.driver + ' ' : ''}${f.dev}`, `iova ${f.iova}`, f.access ?? '', `flags=0x${(x.flags ?? 0).toString(16).padStart(4, '0')}`,
        f.message.includes(' is mapped') ? 'mapped' : f.message.includes('not mapped') ? 'not mapped' : ''];
    });
    out.push(...alignTable(rows), ...more(MAX_LIST, rep.faults.length, 'faults'));
  }
  if (r.dmaHandles.length) {
    out.push('', `DMA handles never unmapped or freed in the trace (${r.dmaHandles.length})`);
    const rows = [['LINE', 'DEVICE', 'CALL', 'DMA ADDRESS', 'SIZE']];
    for (const h of r.dmaHandles.slice(0, MAX_LIST)) rows.push([String(h.line), h.dev, h.event, h.dma === null ? '-' : hex(h.dma), sizeText(h.size)]);
    out.push(...alignTable(rows), ...more(MAX_LIST, r.dmaHandles.length, 'handles'));
  }
  if (rep.findings.length) {
    out.push('', `findings (${rep.findings.length})`);
    for (const f of rep.findings.slice(0, MAX_LIST)) {
      const line = f.step !== null ? rep.steps[f.step]?.line : undefined;
      out.push(`  ${line !== undefined ? `line ${line}: ` : ''}${f.severity}: ${f.message} [${f.code}]`);
    }
    out.push(...more(MAX_LIST, rep.findings.length, 'findings'));
  }
  if (r.skippedCount) {
    out.push('', `skipped lines (${r.skippedCount})`);
    for (const s of r.skipped.slice(0, MAX_LIST)) out.push(`  ${file}:${s.line}${s.col !== undefined ? `:${s.col}` : ''}: ${s.reason}`);
    out.push(...more(Math.min(MAX_LIST, r.skipped.length), r.skippedCount, 'skipped lines'));
  }
  return out.join('\n') + '\n';
}
