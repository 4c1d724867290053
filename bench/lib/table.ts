// The human-readable report: one row per measurement (median, min, max, runs, floor, ratio, target, met),
// then the notes, skip reasons and errors underneath.
import { sig } from './stats';
import type { Result } from './types';

const num = (x: number | null | undefined) => (x === null || x === undefined ? '-' : String(sig(x)));

export function formatTable(results: readonly Result[]): string {
  const head = ['MEASUREMENT', 'MEDIAN', 'MIN', 'MAX', 'RUNS', 'CPU', 'FLOOR', 'RATIO', 'TARGET', 'MET'];
  const rows = results.map(r => {
    if (r.skipped) return [r.name, 'skipped', '', '', '', '', '', '', r.target, '-'];
    if (r.error) return [r.name, 'error', '', '', '', '', '', '', r.target, 'no'];
    return [
      r.name, `${num(r.value)} ${r.unit}`, num(r.min), num(r.max), String(r.runs), num(r.cpu),
      r.floor === null ? '-' : `${num(r.floor)} ${r.unit}`, r.ratio === null ? '-' : `${sig(r.ratio)}×`, r.target, r.met ? 'yes' : 'NO',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(head), ...rows.map(line)];
  const notes: string[] = [];
  for (const r of results) {
    if (r.skipped) notes.push(`${r.name}: skipped: ${r.skipped}`);
    else if (r.error) notes.push(`${r.name}: error: ${r.error}`);
    else {
      const bits = [r.floorWhat ? `floor = ${r.floorWhat}` : '', r.note ?? ''].filter(Boolean);
      if (r.extra) bits.push(Object.entries(r.extra).map(([k, v]) => `${k}=${typeof v === 'number' ? sig(v) : typeof v === 'string' ? v : JSON.stringify(v)}`).join(', '));
      if (bits.length) notes.push(`${r.name}: ${bits.join('; ')}`);
    }
  }
  if (notes.length) out.push('', ...notes);
  return out.join('\n');
}
