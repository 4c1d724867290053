// Activation without VS Code, for when code-server cannot run: dist/extension.js is required with a stand-in
// `vscode` module (every API a no-op that returns another stand-in; configuration answers its defaults) and
// its activate() called with a minimal ExtensionContext. It times module load + activate() as the extension
// host would, but none of the host's own work: a lower bound, reported as such. Floor: the same for a
// no-op extension module.
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { errorText, ran, type MeasureContext, type Outcome } from '../lib/types';

const RUNS = 5;

type AnyFn = (...args: unknown[]) => unknown;

/** A value every property access, call and `new` of which gives another stand-in; assignments stick. Not thenable. */
function standIn(): unknown {
  const cache = new Map<PropertyKey, unknown>();
  const target = function standInFn() { /* no-op */ } as AnyFn;
  return new Proxy(target, {
    get(_t, p) {
      if (p === 'then') return undefined;
      if (p === Symbol.toPrimitive) return () => '';
      if (p === Symbol.iterator) return function* empty() { /* nothing */ };
      if (p === 'dispose') return () => {};
      if (cache.has(p)) return cache.get(p);
      if (p === 'length') return 0;
      if (!cache.has(p)) cache.set(p, standIn());
      return cache.get(p);
    },
    set(_t, p, v) { cache.set(p, v); return true; },
    apply: () => standIn(),
    construct: () => standIn() as object,
  });
}

/** The values the real API object has as own properties: every top-level namespace, class, enum, const of @types/vscode. */
function apiNames(root: string): string[] {
  const dts = path.join(root, 'node_modules', '@types', 'vscode', 'index.d.ts');
  if (!fs.existsSync(dts)) return [];
  return [...fs.readFileSync(dts, 'utf8').matchAll(/^\t(?:export )?(?:namespace|class|enum|const|let|var|function) (\w+)/gm)].map(m => m[1]);
}

/**
 * The module object: the API's names as own properties (the glue copies them once into its namespace, as from the
 * real API object), and a prototype that answers any other name (esbuild's __toESM keeps the prototype).
 */
function fakeVscode(root: string): object {
  const configuration = { get: (_k: string, d?: unknown) => d, has: () => false, inspect: () => undefined, update: async () => {} };
  const ws = standIn() as object;
  const workspace = new Proxy(ws, {
    get: (t, p) => (p === 'getConfiguration' ? () => configuration : p === 'workspaceFolders' ? undefined : Reflect.get(t, p)),
  });
  const names = new Map<PropertyKey, unknown>();
  const lookup = new Proxy({}, {
    get(_t, p) {
      if (p === 'workspace') return workspace;
      if (p === 'version') return '1.90.0';
      if (p === 'then' || typeof p === 'symbol') return undefined;
      if (!names.has(p)) names.set(p, standIn());
      return names.get(p);
    },
  });
  const api = Object.create(lookup) as Record<string, unknown>;
  for (const name of apiNames(root)) Object.defineProperty(api, name, { get: () => (lookup as Record<string, unknown>)[name], enumerable: true });
  return api;
}

function memento() {
  const m = new Map<string, unknown>();
  return { get: (k: string, d?: unknown) => (m.has(k) ? m.get(k) : d), update: async (k: string, v: unknown) => { m.set(k, v); }, keys: () => [...m.keys()], setKeysForSync: () => {} };
}

function context(root: string, tmp: string) {
  const uri = (p: string) => ({ fsPath: p, path: p, scheme: 'file', toString: () => `file://${p}` });
  return {
    subscriptions: [] as Array<{ dispose(): unknown }>, extensionPath: root, extensionUri: uri(root),
    asAbsolutePath: (p: string) => path.join(root, p), globalState: memento(), workspaceState: memento(),
    storageUri: undefined, globalStorageUri: uri(tmp), logUri: uri(tmp), extensionMode: 1, secrets: standIn(),
    environmentVariableCollection: standIn(), extension: standIn(),
  };
}

/** Requires `file` with the stand-in vscode and times require + activate(). */
async function loadAndActivate(file: string, root: string, tmp: string): Promise<number> {
  const resolved = require.resolve(file);
  delete require.cache[resolved];
  const t0 = performance.now();
  const m = require(resolved) as { activate?: (c: unknown) => unknown };
  await m.activate?.(context(root, tmp));
  return performance.now() - t0;
}

export async function fallbackActivation(ctx: MeasureContext): Promise<Outcome> {
  const ext = path.join(ctx.root, 'dist', 'extension.js');
  const noop = path.join(ctx.tmp, 'noop-extension.js');
  fs.writeFileSync(noop, "'use strict';\nexports.activate = function activate() { return {}; };\n");
  const vscode = fakeVscode(ctx.root);
  const mod = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
  const load = mod._load;
  mod._load = (req, ...rest) => (req === 'vscode' ? vscode : load.call(Module, req, ...rest));
  try {
    const values: number[] = [], floors: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      values.push(await loadAndActivate(ext, ctx.root, ctx.tmp));
      floors.push(await loadAndActivate(noop, ctx.root, ctx.tmp));
    }
    return ran(values, floors, 'require + activate() of a no-op extension module, same stand-in', {
      note: 'dist/extension.js required with a stand-in vscode module in plain node (no extension host work); each run re-requires the bundle',
    });
  } catch (e) {
    return { kind: 'error', message: `dist/extension.js did not activate against the stand-in vscode module: ${errorText(e)}` };
  } finally {
    mod._load = load;
  }
}
