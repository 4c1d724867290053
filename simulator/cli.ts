// iommu-lens: the command-line twin of the extension.
//   iommu-lens run FILE [--json] [--trace]     run a scenario
//   iommu-lens run --builtin NAME              run a built-in example (default: "default")
//   iommu-lens presets                          list the built-in platforms
// Exit status: 0 success, 1 an expectation failed, 2 bad input or usage, 70 internal error.
import fs from 'node:fs';
import { Session } from './session';
import { ScenarioError } from './scenario/types';
import { loadScenario } from './scenario/loader';
import { formatTextReport } from './report/text';
import { builtinScenarios } from './builtin';
import { getPreset, presetNames } from './platform/registry';
import { allOpNames, getOpSchema } from './scenario/opspec';
import { runAnnotate } from './analysis/annotate-cli';
import { bindOutcomes } from './analysis/bind';
import { bindingOutput } from './analysis/bind-cli';
import type { Analysis, BoundOutcomes } from './analysis/types';
import { runImportTrace } from './trace/import-cli';
import { LIMITS, LIMITS_DOC } from './limits';

const USAGE = `usage: iommu-lens run FILE.iommu.yaml [--json] [--trace]
       iommu-lens run --builtin NAME [--json] [--trace]
       iommu-lens presets
       iommu-lens ops [OP]
       iommu-lens annotate FILE.c [--scenario S] [--json]
       iommu-lens import-trace TRACE [--json]`;

/** Steps the text report lists; the JSON report has them all. */
const TEXT_STEPS = 200;

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  readFile: (p: string) => string;
}

class UsageError extends Error {}

function readScenarioText(file: string, io: CliIo): string {
  try {
    return io.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_STRING_TOO_LONG' || code === 'ERR_FS_FILE_TOO_LARGE') {
      throw new UsageError(`${file}: cannot read: larger than the largest accepted scenario (${LIMITS.scenarioBytes / 2 ** 20} MiB; see ${LIMITS_DOC})`);
    }
    throw new UsageError(`${file}: cannot read: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
}

/**
 * Runs every step, handing the event loop back every few dozen milliseconds so Ctrl-C (SIGINT) is heard
 * during a long run; one step's work is bounded by the simulator's limits (docs/limits.md).
 */
async function runInterruptibly(session: Session): Promise<void> {
  let last = Date.now();
  while (!session.done) {
    session.advance();
    if ((session.cursor & 63) === 0 && Date.now() - last > 50) {
      await new Promise(resolve => setImmediate(resolve));
      last = Date.now();
    }
  }
}

export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const flags = new Set(argv.filter(a => a.startsWith('--')));
  const known = new Set(['--json', '--trace', '--builtin']);
  for (const f of flags) if (!known.has(f)) throw new UsageError(`unknown option '${f}' for run\n${USAGE}`);
  const positional = argv.filter(a => !a.startsWith('--'));
  let file: string, text: string;
  if (flags.has('--builtin')) {
    const name = positional[0] ?? 'default';
    const b = builtinScenarios().find(s => s.name === name);
    if (!b) throw new UsageError(`no built-in scenario '${name}'; built-in: ${builtinScenarios().map(s => s.name).join(', ')}`);
    file = b.file; text = b.text;
  } else {
    if (positional.length !== 1) throw new UsageError(USAGE);
    file = positional[0];
    text = readScenarioText(file, io);
  }
  const scenario = loadScenario(text, file);
  const json = flags.has('--json');
  // The text report lists the first TEXT_STEPS steps: a long run keeps no record of the others.
  const session = new Session(scenario, { collectEvents: json, trace: flags.has('--trace'), ...(json ? {} : { keepRuns: TEXT_STEPS }) });
  await runInterruptibly(session);
  if (flags.has('--trace')) {
    io.stdout(session.traceLines().join('\n') + (session.kernel.trace.length ? '\n' : ''));
  }
  const report = session.snapshot(flags.has('--json') ? {} : { maxSteps: TEXT_STEPS });
  if (flags.has('--json')) io.stdout(JSON.stringify(report, null, 2) + '\n');
  else if (!flags.has('--trace')) io.stdout(formatTextReport(report));
  const failures = session.expectationFailures();
  for (const f of failures) {
    for (const msg of f.failures) io.stderr(`${f.step.pos.file}:${f.step.pos.line}:${f.step.pos.col}: expectation failed: step ${f.step.index} (${f.step.op}): ${msg}\n`);
  }
  return failures.length ? 1 : 0;
}

/** `annotate FILE.c --scenario S`: run S to the end and bind its outcomes to the file's call sites. */
function bindScenario(analysis: Analysis, scenarioPath: string, scenarioText: string): BoundOutcomes {
  try {
    const session = new Session(loadScenario(scenarioText, scenarioPath));
    session.runAll();
    return bindingOutput(analysis, bindOutcomes(analysis, session.snapshot()));
  } catch (e) {
    // runAnnotate prints the message on one line: give it the FILE:LINE:COL form of a scenario error
    if (e instanceof ScenarioError) throw new Error(e.format());
    throw e;
  }
}

function presetsCommand(io: CliIo): number {
  for (const name of presetNames()) io.stdout(`${name.padEnd(16)} ${getPreset(name)!.doc}\n`);
  return 0;
}

function opsCommand(rest: string[], io: CliIo): number {
  const names = rest.length ? rest : allOpNames();
  for (const name of names) {
    const s = getOpSchema(name);
    if (!s) throw new UsageError(`unknown op '${name}'`);
    io.stdout(`${name}: ${s.doc}\n`);
    if (rest.length || names.length === 1) {
      const fields = 'scalar' in s.args ? { '(value)': s.args.scalar } : s.args.object;
      for (const [k, f] of Object.entries(fields)) {
        const type = typeof f.type === 'string' ? f.type : 'enum' in f.type ? f.type.enum.join('|') : 'list' in f.type ? 'list' : 'object';
        io.stdout(`  ${k.padEnd(14)} ${type.padEnd(10)} ${f.required ? 'required ' : ''}${f.doc ?? ''}\n`);
      }
    }
  }
  return 0;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'run': return await runCommand(rest, io);
      case 'presets': return presetsCommand(io);
      case 'ops': return opsCommand(rest, io);
      case 'annotate': return await runAnnotate(rest, { ...io, bindOutcomes: bindScenario });
      case 'import-trace': return runImportTrace(rest, io);
      case '--help': case '-h': case 'help': io.stdout(USAGE + '\n'); return 0;
      case undefined: io.stderr(USAGE + '\n'); return 2;
      default: io.stderr(`iommu-lens: unknown command '${cmd}'\n${USAGE}\n`); return 2;
    }
  } catch (e) {
    if (e instanceof ScenarioError) { io.stderr(e.format() + '\n'); return 2; }
    if (e instanceof UsageError) { io.stderr(`iommu-lens: ${e.message}\n`); return 2; }
    return internalError(e, io);
  }
}

/** One line (the stack only with IOMMU_LENS_DEBUG=1): a simulator bug, exit status 70. */
function internalError(e: unknown, io: CliIo): number {
  const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  const debug = process.env.IOMMU_LENS_DEBUG === '1';
  io.stderr(`iommu-lens: internal error: ${message}; please report it with the input file` +
    (debug ? `\n${e instanceof Error ? e.stack ?? '' : ''}\n` : ' (set IOMMU_LENS_DEBUG=1 for details)\n'));
  return 70;
}

if (require.main === module) {
  const io: CliIo = {
    stdout: s => process.stdout.write(s),
    stderr: s => process.stderr.write(s),
    readFile: p => fs.readFileSync(p, 'utf8'),
  };
  process.on('SIGINT', () => { process.stderr.write('iommu-lens: interrupted\n'); process.exit(130); });
  // `iommu-lens run X --json | head`: the reader went away; that is not an error of ours.
  process.stdout.on('error', e => { if ((e as NodeJS.ErrnoException).code === 'EPIPE') process.exit(process.exitCode ?? 0); });
  main(process.argv.slice(2), io).then(code => { process.exitCode = code; });
}
