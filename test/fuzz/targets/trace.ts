// Fuzz target for kernel trace text: realistic traces (simulator/trace/generate.ts) with line-level damage -
// truncated lines, fields renamed or given wrong values, numbers past 2^64, binary junk, CR line ends, a
// missing end of file, and now and then a 10 MB line. importTrace must never throw; every bad line is skipped
// and listed with a readable reason. A part of the cases also goes through `iommu-lens import-trace --json`,
// whose output must be one valid JSON document. Used by test/fuzz/trace.fuzz.test.ts.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { importTrace } from '../../../simulator/trace/import';
import { runImportTrace } from '../../../simulator/trace/import-cli';
import { generateTrace } from '../../../simulator/trace/generate';
import type { FuzzTarget } from '../child';
import { mutate, mutationArb, type Mutation } from '../gen/mutate';
import { assertReadable } from '../gen/outcome';

interface LineEdit { kind: number; line: number; a: number; b: number }
interface Case { events: number; seed: number; stacks: boolean; edits: LineEdit[]; muts: Mutation[]; cli: boolean; hugeLine: number }

const FIELD_VALUES = ['0x', '0xg', '-1', '0x' + 'f'.repeat(17), '18446744073709551616', '99999999999999999999999', '0x1fffffffffffff',
  '0x20000000000000', '', ' ', '=', 'NaN', '0x00000000ffffffff - ', '4096 size=4096', 'é', '\u0000', '(null)'];
const JUNK_LINES = ['', '#', '# tracer: function', 'CPU:0 [LOST 99999999999999999999 EVENTS]', 'CPU:1 [LOST 3 EVENTS]', ' => ', ' => x+0x1/0x2',
  ' <stack trace>', '  task-1 [000] .....  1.0: map: IOMMU:', '  -1 [x] 1: :', ':::::', '[000]', 'x'.repeat(20000),
  '  a-1 [000] ..... 99999999999999999999.000001: unmap: IOMMU: iova=0x0 - 0x1000 size=4096 unmapped_size=4096',
  '  kworker-1 [000] d..1. 2.000000: io_page_fault: IOMMU:arm-smmu-v3 dev iova=0x0000000000001000 flags=0x0000',
  '  kworker-1 [000] ..... 2.000000: dma_map_sg: dev nents=999999/1 ents=2/2 dma_addrs=[] lengths=[] phys_addrs=[] dir=TO_DEVICE attrs='];

/** Damage to one line of the trace. */
function editLine(lines: string[], e: LineEdit): void {
  if (!lines.length) return;
  const i = e.line % lines.length;
  const l = lines[i];
  switch (e.kind % 8) {
    case 0: lines[i] = l.slice(0, e.a % (l.length + 1)); break;                                   // truncated
    case 1: lines[i] = l.replace(/(0x[0-9a-f]+|\b\d+\b)/, () => FIELD_VALUES[e.b % FIELD_VALUES.length]); break;
    case 2: lines[i] = l.replace(/\b(iova|paddr|size|unmapped_size|dma_addr|phys_addr|nents|groupID|device|flags)=/, 'x='); break;
    case 3: lines.splice(i, 0, JUNK_LINES[e.b % JUNK_LINES.length]); break;
    case 4: lines[i] = l.replace(/: (map|unmap|dma_map_phys|dma_unmap_phys|add_device_to_group): /, ': $1 '); break;
    case 5: lines[i] = Array.from({ length: 1 + (e.a % 60) }, (_, k) => String.fromCharCode((e.b * (k + 7)) % 256)).join(''); break;
    case 6: lines.splice(i, 0, l, l); break;                                                      // replayed events
    default: lines[i] = l.replace(/ - 0x[0-9a-f]+/, ''); break;                                    // a field missing
  }
}

function textOf(c: Case): string {
  const lines = generateTrace(c.events, c.seed, { stacks: c.stacks }).split('\n');
  for (const e of c.edits) editLine(lines, e);
  // one case in 60 gets a 10 MB line (a trace of binary data, or a runaway printk)
  if (c.hugeLine === 0) lines.splice(Math.floor(lines.length / 2), 0, '  x-1 [000] ..... 1.0: map: IOMMU: iova=0x' + '1'.repeat(10 << 20));
  return mutate(lines.join('\n'), c.muts, false);
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  events: fc.nat(150), seed: fc.nat(), stacks: fc.boolean(),
  edits: fc.array(fc.record({ kind: fc.nat(), line: fc.nat(), a: fc.nat(), b: fc.nat() }), { maxLength: 8 }),
  muts: fc.array(mutationArb, { maxLength: 2 }), cli: fc.nat(4).map(n => n === 0), hugeLine: fc.nat(59),
});

const stats = { cases: 0, events: 0, skipped: 0, clean: 0 };

const trace: FuzzTarget<Case> = {
  arbitrary: caseArb,
  show: textOf,
  check(c) {
    const text = textOf(c);
    const r = importTrace(text, 'fuzz.trace');
    stats.cases++;
    stats.events += r.events;
    stats.skipped += r.skippedCount;
    if (c.edits.length === 0 && c.muts.length === 0 && c.hugeLine !== 0) {
      assert.equal(r.skippedCount, 0, `an undamaged generated trace had skipped lines: ${JSON.stringify(r.skipped.slice(0, 3))}`);
      stats.clean++;
    }
    assert.ok(r.skippedCount >= r.skipped.length);
    for (const s of r.skipped) {
      assert.ok(Number.isInteger(s.line) && s.line >= 1 && s.line <= r.lines, `skipped line ${s.line} of ${r.lines}`);
      assertReadable(s.reason, text);
      assert.ok(s.reason.length < 400, `a ${s.reason.length}-character reason: ${s.reason.slice(0, 120)}...`);
    }
    r.report.steps.forEach((s, i) => assert.equal(s.index, i));
    assert.ok(JSON.stringify(r.report).length > 0);
    if (c.cli) {
      let out = '';
      let err = '';
      const code = runImportTrace(['fuzz.trace', '--json'], { stdout: s => { out += s; }, stderr: s => { err += s; }, readFile: () => text });
      assert.equal(code, 0, err);
      JSON.parse(out);
    }
  },
  summary: () => `${stats.events} events imported, ${stats.skipped} lines skipped, ${stats.clean} undamaged traces imported cleanly`,
  finish() {
    assert.ok(stats.events > stats.cases, `the traces reached too few events: ${JSON.stringify(stats)}`);
    assert.ok(stats.clean > 0, 'no undamaged trace was checked');
  },
};

export const targets = { trace };
