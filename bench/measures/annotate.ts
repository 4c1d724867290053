// annotate: simulator/analysis on a 20,000-line kernel-style C file, made of examples/drivers/apu_gem.c
// repeated with every driver identifier renamed per copy (apu_gem_new -> apu_gem_new_7 ...), so each copy
// defines its own functions and structs. Floor: a bare tree-sitter parse of the same text with the same
// parser (kept from one sample to the next, as analyzeC keeps the parser it lends its analyses). The subject is
// the whole of analyzeC: preprocessing, both depth guards, the parse, reading the records, the checks and the
// Analysis the CLI prints. Reported per 1,000 lines; subject and floor samples alternate.
import fs from 'node:fs';
import path from 'node:path';
import * as analysis from '../../simulator/analysis';
import { summarize, timeOnce, sig } from '../lib/stats';
import { measureEach, ran, skipped, type MeasureContext, type Outcome } from '../lib/types';

const LINES = 20_000;
const WARMUP = 2;
const SAMPLES = 7;

export function bigDriver(source: string, minLines: number): string {
  const copies: string[] = [];
  let lines = 0;
  for (let i = 0; lines < minLines; i++) {
    const copy = source.replace(/\b((?:to_|drm_)?apu_\w+|APU_\w+)\b/g, `$1_${i}`);
    copies.push(copy.endsWith('\n') ? copy : copy + '\n');
    lines += copy.split('\n').length - 1;
  }
  return copies.join('');
}

export async function annotate(ctx: MeasureContext): Promise<Outcome> {
  if (typeof analysis.analyzeC !== 'function' || typeof analysis.initParser !== 'function' || typeof analysis.newCParser !== 'function') {
    return skipped('simulator/analysis does not export analyzeC / initParser / newCParser yet');
  }
  const src = path.join(ctx.root, 'examples', 'drivers', 'apu_gem.c');
  if (!fs.existsSync(src)) return skipped('examples/drivers/apu_gem.c is missing');
  const text = bigDriver(fs.readFileSync(src, 'utf8'), LINES);
  const lines = text.split('\n').length - 1;
  fs.writeFileSync(path.join(ctx.tmp, 'apu_big.c'), text);
  await analysis.initParser();
  const parser = analysis.newCParser();
  let findings = 0;
  const subject = () => { findings = analysis.analyzeC(text, 'apu_big.c').findings.length; };
  const floor = () => { const t = parser.parse(text); if (!t) throw new Error('tree-sitter returned no tree'); t.delete(); };
  for (let i = 0; i < WARMUP; i++) { subject(); floor(); }
  const per = 1000 / lines;
  const values: number[] = [], floors: number[] = [], cpu: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const s = timeOnce(subject);
    const f = timeOnce(floor);
    values.push(s.wallMs * per);
    cpu.push(s.cpuMs * per);
    floors.push(f.wallMs * per);
  }
  parser.delete();
  return ran(values, floors, 'tree-sitter parse of the same text (web-tree-sitter, same grammar)', {
    cpu,
    extra: { lines, findings, wholeFileMs: sig(summarize(values).median * lines / 1000) },
  });
}

export const measure = measureEach({ annotate });
