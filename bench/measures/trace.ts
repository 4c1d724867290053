// trace-import: a generated 1,000,000-line tracepoint file (simulator/trace/generate.ts: devices streaming
// DMA through dma-iommu, an accelerator mapping its own domain, faults, other subsystems' events) read from
// disk and imported with simulator/trace/import.ts. Floor: reading the file and splitting it into lines.
import fs from 'node:fs';
import path from 'node:path';
import * as generate from '../../simulator/trace/generate';
import * as importer from '../../simulator/trace/import';
import { timeOnce, sig } from '../lib/stats';
import { measureEach, ran, skipped, type MeasureContext, type Outcome } from '../lib/types';

const LINES = 1_000_000;
const MIN_RUNS = 3;
const MAX_RUNS = 3;
const BUDGET_S = 90;

export async function traceImport(ctx: MeasureContext): Promise<Outcome> {
  if (typeof generate.generateTrace !== 'function') return skipped('simulator/trace/generate.ts does not export generateTrace yet');
  if (typeof importer.importTrace !== 'function') return skipped('simulator/trace/import.ts does not export importTrace yet');
  const file = path.join(ctx.tmp, 'bench-1m.trace');
  // a few header lines come on top of the events: learn how many from a tiny trace
  const header = generate.generateTrace(10, 11).split('\n').filter(Boolean).length - 10;
  let text = generate.generateTrace(LINES - Math.max(0, header), 11);
  fs.writeFileSync(file, text);
  const lines = text.split('\n').filter(Boolean).length;
  text = '';
  const small = generate.generateTrace(50_000, 12);
  importer.importTrace(small, 'warm.trace');            // warm-up
  let last: ReturnType<typeof importer.importTrace> | null = null;
  const values: number[] = [], floors: number[] = [], cpu: number[] = [];
  const t0 = Date.now();
  for (let i = 0; i < MAX_RUNS && (i < MIN_RUNS || Date.now() - t0 < BUDGET_S * 1000); i++) {
    last = null;
    const s = timeOnce(() => { last = importer.importTrace(fs.readFileSync(file, 'utf8'), file); });
    const f = timeOnce(() => { if (fs.readFileSync(file, 'utf8').split('\n').length < lines) throw new Error('short file'); });
    values.push(s.wallMs / 1000);
    cpu.push(s.cpuMs / 1000);
    floors.push(f.wallMs / 1000);
    ctx.log(`trace-import: run ${i + 1}: ${(s.wallMs / 1000).toFixed(2)} s (cpu ${(s.cpuMs / 1000).toFixed(2)} s)`);
  }
  const r = last! as ReturnType<typeof importer.importTrace>;
  const mappings = r.report.domains.reduce((n, d) => n + d.mappings.length, 0);
  return ran(values, floors, 'reading the file and splitting it into lines', {
    cpu,
    extra: {
      lines, fileMB: sig(fs.statSync(file).size / 1e6),
      events: r.events, skippedLines: r.skippedCount, liveMappings: mappings, steps: r.report.steps.length,
    },
  });
}

export const measure = measureEach({ 'trace-import': traceImport });
