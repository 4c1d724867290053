// `iommu-lens annotate FILE.c [--scenario S] [--json]`: source findings in compiler style,
// FILE:LINE:COL: SEVERITY: MESSAGE [CODE], or the whole analysis as JSON. Findings are not errors (exit 0);
// bad usage or an unreadable file is exit 2 with one line on stderr.
import { analyzeC } from './analyzer';
import { initParser, type ParserInitOptions } from './parser';
import type { Analysis, BindOutcomes, BoundOutcomes, SourceFinding, SourceNote } from './types';

export interface AnnotateIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => Promise<string> | string;
  /** where the tree-sitter wasm files are (dist/ in a build); found automatically when omitted */
  wasmDir?: ParserInitOptions['wasmDir'];
  /** binds a scenario run's outcomes to this file's functions; without it --scenario only checks the file */
  bindOutcomes?: BindOutcomes;
}

export const ANNOTATE_USAGE = 'usage: iommu-lens annotate FILE.c [--scenario SCENARIO] [--json]';

interface AnnotateArgs { file: string; json: boolean; scenario: string | null }

function parseArgs(argv: string[]): AnnotateArgs | string {
  const args = argv[0] === 'annotate' ? argv.slice(1) : argv;
  let file: string | null = null;
  let json = false;
  let scenario: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--scenario' || a.startsWith('--scenario=')) {
      const value = a === '--scenario' ? args[++i] : a.slice('--scenario='.length);
      if (!value || value.startsWith('--')) return `iommu-lens annotate: --scenario needs a scenario file (${ANNOTATE_USAGE})`;
      scenario = value;
    } else if (a.startsWith('-') && a !== '-') return `iommu-lens annotate: unknown option '${a}' (${ANNOTATE_USAGE})`;
    else if (file !== null) return `iommu-lens annotate: one C file at a time, got '${file}' and '${a}'`;
    else file = a;
  }
  if (file === null) return ANNOTATE_USAGE;
  return { file, json, scenario };
}

function readError(path: string, err: unknown): string {
  const code = (err as { code?: string }).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied'
    : err instanceof Error ? err.message : String(err);
  return `iommu-lens annotate: cannot read '${path}': ${why}`;
}

export function formatFinding(f: SourceFinding): string {
  return `${f.file}:${f.line}:${f.col}: ${f.severity}: ${f.message} [${f.code}]`;
}

export function formatNote(n: SourceNote): string {
  return `${n.file}:${n.line}:${n.col}: note: ${n.message} [${n.code}]`;
}

/**
 * Findings in line order, each followed by its simulated consequence as a note (as compilers print notes
 * after the diagnostic they explain), then the outcome notes, then the regions that could not be parsed.
 */
export function formatAnalysis(a: Analysis, extra: SourceFinding[] = [], notes: SourceNote[] = []): string {
  const lines: string[] = [];
  const sorted = [...a.findings, ...extra].sort((x, y) => x.line - y.line || x.col - y.col || x.code.localeCompare(y.code));
  for (const f of sorted) {
    lines.push(formatFinding(f));
    if (f.consequence) lines.push(formatNote({ file: f.file, line: f.line, col: f.col, message: f.consequence, code: f.code }));
  }
  for (const n of [...notes].sort((x, y) => x.line - y.line || x.col - y.col)) lines.push(formatNote(n));
  for (const p of a.parseProblems) lines.push(`${a.file}:${p.line}:${p.col}: info: ${p.message} [could-not-parse]`);
  if (a.parseProblemsOmitted) lines.push(`${a.file}: info: ${a.parseProblemsOmitted} more regions could not be parsed [could-not-parse]`);
  return lines.length ? lines.join('\n') + '\n' : '';
}

export async function runAnnotate(argv: string[], io: AnnotateIo): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') { io.stderr(args + '\n'); return 2; }
  let text: string;
  try {
    text = await io.readFile(args.file);
  } catch (err) {
    io.stderr(readError(args.file, err) + '\n');
    return 2;
  }
  let scenarioText: string | null = null;
  if (args.scenario !== null) {
    try {
      scenarioText = await io.readFile(args.scenario);
    } catch (err) {
      io.stderr(readError(args.scenario, err).replace('cannot read', 'cannot read scenario') + '\n');
      return 2;
    }
  }
  try {
    await initParser({ wasmDir: io.wasmDir });
  } catch (err) {
    io.stderr(`iommu-lens annotate: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  let analysis: Analysis;
  let bound: BoundOutcomes = { findings: [], notes: [] };
  try {
    analysis = analyzeC(text, args.file);
    if (args.scenario !== null && scenarioText !== null) {
      if (io.bindOutcomes) {
        const got = await io.bindOutcomes(analysis, args.scenario, scenarioText);
        bound = Array.isArray(got) ? { findings: got, notes: [] } : got;
      } else {
        io.stderr(`iommu-lens annotate: note: --scenario ${args.scenario}: simulated outcomes are not bound to source in this build\n`);
      }
    }
  } catch (err) {
    // The scenario hook reports bad scenario files by throwing; keep it to one line.
    io.stderr(`iommu-lens annotate: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const review = analysis.findings.map((f, i) => {
    const consequence = bound.consequences?.[i];
    return consequence ? { ...f, consequence } : f;
  });
  if (args.json) {
    const findings = [...review, ...bound.findings];
    io.stdout(JSON.stringify({
      ...analysis, findings, ...(args.scenario ? { scenario: args.scenario, notes: bound.notes, ...bound.json } : {}),
    }, null, 2) + '\n');
  } else {
    io.stdout(formatAnalysis({ ...analysis, findings: review }, bound.findings, bound.notes));
  }
  return 0;
}
