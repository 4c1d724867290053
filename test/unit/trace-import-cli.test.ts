// `iommu-lens import-trace TRACE [--json]`: text summary, JSON report, exit status and one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runImportTrace } from '../../simulator/trace/import-cli';

const TRACE = [
  '# tracer: nop',
  '   (udev-worker)-532     [010] .....     4.870001: add_device_to_group: IOMMU: groupID=7 device=0000:03:00.0',
  '   (udev-worker)-532     [010] .....     4.870002: attach_device_to_domain: IOMMU: device=0000:03:00.0',
  '   (udev-worker)-532     [010] .....     4.878076: map: IOMMU: iova=0x00000000fe980000 - 0x00000000fea00000 paddr=0x000000010ec80000 size=524288',
  '   (udev-worker)-532     [010] .....     4.878080: dma_map_phys: 0000:03:00.0 dir=BIDIRECTIONAL dma_addr=fe980000 size=524288 phys_addr=10ec80000 attrs=',
  '   (udev-worker)-532     [010] .....     4.878090: map: IOMMU: iova=0x00000000fe900000 - 0x00000000fe901000 paddr=0x0000000200000000 size=4096',
  'garbage',
  '          <idle>-0       [002] d.h1.     5.000000: io_page_fault: IOMMU:nvme 0000:03:00.0 iova=0x00000000fea10000 flags=0x0001',
].join('\n');

function run(argv: string[], files: Record<string, string> = { 'boot.trace': TRACE }) {
  let out = '';
  let err = '';
  const code = runImportTrace(argv, {
    stdout: s => { out += s; },
    stderr: s => { err += s; },
    readFile: p => {
      if (p in files) return files[p];
      throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
    },
  });
  return { code, out, err };
}

test('text summary: devices, groups, domains with an aligned mapping table, faults, skipped lines', () => {
  const { code, out, err } = run(['boot.trace']);
  assert.equal(code, 0);
  assert.equal(err, '');
  const lines = out.split('\n');
  assert.match(lines[0], /^boot\.trace: ftrace \(tracing\/trace\) output, 8 lines$/);
  assert.match(lines[1], /6 IOMMU\/DMA events imported, 0 other events ignored, 1 line skipped/);
  assert.ok(lines.includes('  0000:03:00.0  7      d1      nvme'), out);
  const header = lines.findIndex(l => l.trim().startsWith('IOVA'));
  assert.deepEqual(lines.slice(header, header + 3), [
    '    IOVA        SIZE            PADDR        MAPPED BY',
    '    0xfe900000  0x1000 (4K)     0x200000000  map line 6',
    '    0xfe980000  0x80000 (512K)  0x10ec80000  dma_map_phys line 5 (0000:03:00.0)',
  ]);
  assert.ok(lines.some(l => /line 8 +nvme 0000:03:00\.0 +iova 0xfea10000 +write +flags=0x0001 +not mapped/.test(l)), out);
  assert.ok(lines.includes('  boot.trace:7:1: not a trace line (expected "TASK-PID [CPU] … TIMESTAMP: EVENT: …")'), out);
});

test('--json prints the report plus an import section; skipped lines go to stderr', () => {
  const { code, out, err } = run(['import-trace', 'boot.trace', '--json']);
  assert.equal(code, 0);
  const j = JSON.parse(out);
  assert.equal(j.scenario, 'boot.trace');
  assert.deepEqual(j.steps.map((s: { line: number }) => s.line), [2, 3, 4, 5, 6, 8]);
  assert.deepEqual(j.domains[0].mappings.map((m: { iova: string }) => m.iova), ['0xfe900000', '0xfe980000']);
  assert.equal(j.faults[0].iova, '0xfea10000');
  assert.deepEqual([j.import.events, j.import.skipped_count, j.import.skipped[0].line], [6, 1, 7]);
  assert.equal(err, 'iommu-lens import-trace: 1 line(s) skipped; first boot.trace:7:1: not a trace line (expected "TASK-PID [CPU] … TIMESTAMP: EVENT: …")\n');
});

test('a trace with no IOMMU events says how to enable them', () => {
  const { code, out } = run(['empty.trace'], { 'empty.trace': '# tracer: nop\n#\n' });
  assert.equal(code, 0);
  assert.match(out, /no IOMMU or DMA tracepoints found: enable them with\n +echo 1 > \/sys\/kernel\/tracing\/events\/iommu\/enable/);
});

test('bad usage and unreadable files exit 2 with one line', () => {
  for (const [argv, msg] of [
    [['missing.trace'], 'iommu-lens import-trace: cannot read missing.trace: no such file\n'],
    [[], 'iommu-lens import-trace: no trace file given (usage: iommu-lens import-trace TRACE [--json])\n'],
    [['a', 'b'], 'iommu-lens import-trace: one trace file at a time (usage: iommu-lens import-trace TRACE [--json])\n'],
    [['boot.trace', '--jsn'], 'iommu-lens import-trace: unknown option --jsn (usage: iommu-lens import-trace TRACE [--json])\n'],
  ] as Array<[string[], string]>) {
    const r = run(argv);
    assert.deepEqual([r.code, r.out, r.err], [2, '', msg], argv.join(' '));
  }
});
