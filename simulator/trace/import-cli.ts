// `iommu-lens import-trace TRACE [--json]`: rebuild IOMMU state from a kernel trace and print it.
// Exit 0 on success (skipped lines are reported, not fatal); 2 with one line for bad usage or an
// unreadable file.
import { fileTooLarge } from '../limits';
import { importTrace, type ImportResult } from './import';
import { formatSummary } from './import-summary';

export interface ImportCliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  readFile: (p: string) => string;
}

const USAGE = 'usage: iommu-lens import-trace TRACE [--json]';
const STEPS_PER_CHUNK = 5000;

function readError(file: string, e: unknown): string {
  const code = (e as { code?: string } | null)?.code;
  const why = code === 'ENOENT' ? 'no such file'
    : code === 'EISDIR' ? 'is a directory'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
        : String((e as Error | null)?.message ?? e).split('\n')[0];
  return `iommu-lens import-trace: cannot read ${file}: ${why}`;
}

/**
 * The report as JSON plus an `import` section (line counts, skipped lines). Written in pieces: a trace
 * of a million events makes a JSON text larger than one JS string may be.
 */
export function writeJson(r: ImportResult, write: (s: string) => void): void {
  const rep = r.report as unknown as Record<string, unknown>;
  const extra = {
    lines: r.lines, events: r.events, ignored: r.ignored, lost: r.lost, format: r.format,
    skipped_count: r.skippedCount, skipped: r.skipped, stacks: r.stacks.length, dma_handles: r.dmaHandles,
  };
  const keys = [...Object.keys(rep).filter(k => rep[k] !== undefined), 'import'];
  write('{\n');
  keys.forEach((k, i) => {
    const sep = i === keys.length - 1 ? '\n' : ',\n';
    if (k === 'steps') {
      const steps = r.report.steps;
      write('  "steps": [');
      for (let s = 0; s < steps.length; s += STEPS_PER_CHUNK) {
        const chunk = steps.slice(s, s + STEPS_PER_CHUNK).map(x => '\n    ' + JSON.stringify(x));
        write((s ? ',' : '') + chunk.join(','));
      }
      write((steps.length ? '\n  ' : '') + ']' + sep);
      return;
    }
    const v = k === 'import' ? extra : rep[k];
    write(`  ${JSON.stringify(k)}: ${JSON.stringify(v, null, 2).replace(/\n/g, '\n  ')}${sep}`);
  });
  write('}\n');
}

export function runImportTrace(argv: string[], io: ImportCliIo): number {
  const args = argv[0] === 'import-trace' ? argv.slice(1) : argv;
  let json = false;
  const files: string[] = [];
  for (const a of args) {
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') {
      io.stdout(`${USAGE}\n  Rebuild devices, groups, domains, live mappings and faults from /sys/kernel/tracing/trace\n` +
        '  or `trace-cmd report` output (iommu and dma events; stack traces bind events to driver functions).\n');
      return 0;
    } else if (a.startsWith('-') && a !== '-') {
      io.stderr(`iommu-lens import-trace: unknown option ${a} (${USAGE})\n`);
      return 2;
    } else files.push(a);
  }
  if (files.length !== 1) {
    io.stderr(`iommu-lens import-trace: ${files.length ? 'one trace file at a time' : 'no trace file given'} (${USAGE})\n`);
    return 2;
  }
  const file = files[0];
  let text: string;
  try {
    text = io.readFile(file);
  } catch (e) {
    io.stderr(readError(file, e) + '\n');
    return 2;
  }
  const tooLarge = fileTooLarge(file, text.length, 'traceBytes');
  if (tooLarge) {
    io.stderr(`iommu-lens import-trace: ${tooLarge}\n`);
    return 2;
  }
  const r = importTrace(text, file);
  if (json) {
    writeJson(r, io.stdout);
    if (r.skippedCount) {
      const first = r.skipped[0];
      io.stderr(`iommu-lens import-trace: ${r.skippedCount} line(s) skipped; first ${file}:${first.line}${first.col !== undefined ? `:${first.col}` : ''}: ${first.reason}\n`);
    }
  } else io.stdout(formatSummary(r, file));
  return 0;
}
