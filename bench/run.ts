// `npm run bench [-- --json] [-- --only NAME[,NAME]]`: runs every measurement of the catalog in a child
// process of its own (a fresh heap and JIT per measurement, nothing left over from the one before), then
// prints a table, or with --json an array with one object per measurement. Exit status 0 when the bench ran,
// whether targets were met or not; 2 for bad usage.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CATALOG, type CatalogEntry } from './catalog';
import { buildModule } from './lib/build';
import { formatTable } from './lib/table';
import { sig } from './lib/stats';
import { toResult, type MeasureContext, type Outcome, type Result } from './lib/types';

const USAGE = `usage: npm run bench [-- --json] [-- --only NAME[,NAME...]] [-- --list] [-- --cpu-prof DIR] [-- --keep-tmp]
  --json          print one JSON object per measurement (an array) on stdout; progress goes to stderr
  --only LIST     run only these measurements (comma-separated names, see --list)
  --cpu-prof DIR  run every child with node --cpu-prof, profiles written to DIR
  --keep-tmp      keep the generated inputs (scenario, trace, C file) for inspection`;

interface Options { json: boolean; only: string[] | null; list: boolean; cpuProf: string | null; keepTmp: boolean }

class UsageError extends Error {}

function parseArgs(argv: string[]): Options {
  const o: Options = { json: false, only: null, list: false, cpuProf: null, keepTmp: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${a.split('=')[0]} needs a value`);
      return v;
    };
    if (a === '--json') o.json = true;
    else if (a === '--list') o.list = true;
    else if (a === '--keep-tmp') o.keepTmp = true;
    else if (a === '--only' || a.startsWith('--only=')) o.only = value().split(',').map(s => s.trim()).filter(Boolean);
    else if (a === '--cpu-prof' || a.startsWith('--cpu-prof=')) o.cpuProf = path.resolve(value());
    else if (a === '--help' || a === '-h') throw new UsageError('');
    else throw new UsageError(`unknown argument '${a}'`);
  }
  if (o.only) {
    const known = new Set(CATALOG.map(e => e.name));
    for (const n of o.only) {
      if (!known.has(n)) throw new UsageError(`no measurement '${n}'; measurements: ${[...known].join(', ')}`);
    }
  }
  return o;
}

/** Entries to run, grouped: a group's entries share one child process. */
function plan(only: string[] | null): CatalogEntry[][] {
  const chosen = CATALOG.filter(e => !only || only.includes(e.name));
  const groups = new Map<string, CatalogEntry[]>();
  for (const e of chosen) {
    const key = e.group ?? e.name;
    const g = groups.get(key);
    if (g) g.push(e); else groups.set(key, [e]);
  }
  return [...groups.values()];
}

function runChild(entries: CatalogEntry[], bundle: string, ctx: Omit<MeasureContext, 'log'>, opts: Options): Promise<Record<string, Outcome>> {
  const resultFile = path.join(ctx.tmp, `result-${entries[0].name}.json`);
  const nodeArgs = [...new Set(entries.flatMap(e => e.nodeArgs ?? []))];
  if (opts.cpuProf) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`, `--cpu-prof-name=${entries[0].name}-${Date.now()}.cpuprofile`);
  const timeoutSec = entries.reduce((t, e) => t + e.timeoutSec, 0);
  const args = [...nodeArgs, path.join(ctx.root, 'bench', 'child.cjs'), bundle, resultFile, ...entries.map(e => e.name)];
  return new Promise(resolve => {
    const child = spawn(process.execPath, args, {
      cwd: ctx.root, stdio: ['ignore', 2, 2], env: { ...process.env, BENCH_CTX: JSON.stringify(ctx) },
    });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutSec * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const all = (o: Outcome) => Object.fromEntries(entries.map(e => [e.name, o]));
      if (timedOut) return resolve(all({ kind: 'error', message: `timed out after ${timeoutSec} s (killed)` }));
      try {
        const got = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as Record<string, Outcome>;
        for (const e of entries) got[e.name] ??= { kind: 'error', message: 'the child returned no result for it' };
        resolve(got);
      } catch {
        resolve(all({ kind: 'error', message: `the measurement process ended with ${signal ?? `exit status ${code}`} and no result` }));
      }
    });
  });
}

function machineLine(): string {
  const load = os.loadavg().map(x => x.toFixed(2)).join(' ');
  return `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${load}`;
}

export async function main(argv: string[], where: { root: string; buildDir: string }): Promise<number> {
  let opts: Options;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write((e.message ? `bench: ${e.message}\n` : '') + USAGE + '\n');
    return e.message ? 2 : 0;
  }
  if (opts.list) {
    for (const e of CATALOG) process.stdout.write(`${e.name.padEnd(22)} ${e.target.text.padEnd(32)} ${e.what}\n`);
    return 0;
  }
  const { root, buildDir } = where;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-lens-bench-'));
  if (opts.cpuProf) fs.mkdirSync(opts.cpuProf, { recursive: true });
  const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
  log(machineLine());
  const results: Result[] = [];
  const started = Date.now();
  try {
    for (const entries of plan(opts.only)) {
      const names = entries.map(e => e.name).join(', ');
      const t0 = Date.now();
      const built = await buildModule(root, buildDir, entries[0].module);
      let outcomes: Record<string, Outcome>;
      if ('error' in built) {
        outcomes = Object.fromEntries(entries.map(e => [e.name, { kind: 'skipped', reason: built.error } as Outcome]));
      } else {
        log(`${names} ...`);
        outcomes = await runChild(entries, built.bundle, { root, tmp, buildDir, ...(opts.cpuProf ? { profileDir: opts.cpuProf } : {}) }, opts);
      }
      const seconds = (Date.now() - t0) / 1000;
      for (const e of entries) {
        const r = toResult(e, outcomes[e.name], Math.round(seconds * 10) / 10);
        results.push(r);
        log(r.skipped ? `${e.name}: skipped: ${r.skipped}` : r.error ? `${e.name}: error: ${r.error.split('\n')[0]}`
          : `${e.name}: ${sig(r.value!)} ${r.unit} (floor ${r.floor === null ? '-' : sig(r.floor)}) ${r.met ? 'met' : 'MISSED'}`);
      }
    }
  } finally {
    if (!opts.keepTmp) fs.rmSync(tmp, { recursive: true, force: true });
    else log(`generated inputs kept in ${tmp}`);
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; ${machineLine()}`);
  if (opts.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else process.stdout.write(formatTable(results) + '\n');
  return 0;
}
