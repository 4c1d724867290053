// Loads the tree-sitter runtime and the C grammar. Both are wasm files read from disk and handed to
// web-tree-sitter as bytes, so nothing is ever fetched. The build copies them into dist/ beside the
// bundles; running from source (tsx) they are found in node_modules.
//
// Checked combination: web-tree-sitter 0.25.6 (accepts grammar ABI 13..15) with tree-sitter-c 0.24.1,
// whose tree-sitter-c.wasm is ABI 15.
import fs from 'node:fs';
import path from 'node:path';
import type * as TreeSitter from 'web-tree-sitter';
import type { Language, Parser, Query } from 'web-tree-sitter';

// The CommonJS build of web-tree-sitter, on purpose: the bundles in dist/ are CommonJS, and esbuild would
// otherwise pick the ES-module build, which locates itself through import.meta.url (empty in CommonJS).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const treeSitter = require('web-tree-sitter') as typeof TreeSitter;

export const RUNTIME_WASM = 'tree-sitter.wasm';
export const C_GRAMMAR_WASM = 'tree-sitter-c.wasm';

export interface ParserInitOptions {
  /** directory holding tree-sitter.wasm and tree-sitter-c.wasm (dist/ in a build) */
  wasmDir?: string;
}

export interface WasmLocation { runtime: string; grammar: string }

let pending: Promise<Language> | null = null;
let language: Language | null = null;

/** The directory of this module in a bundle (dist/) or in the source tree. */
function hereDir(): string {
  return typeof __dirname === 'string' ? __dirname : process.cwd();
}

function both(dir: string): WasmLocation {
  return { runtime: path.join(dir, RUNTIME_WASM), grammar: path.join(dir, C_GRAMMAR_WASM) };
}

function fromNodeModules(root: string): WasmLocation {
  return {
    runtime: path.join(root, 'node_modules', 'web-tree-sitter', RUNTIME_WASM),
    grammar: path.join(root, 'node_modules', 'tree-sitter-c', C_GRAMMAR_WASM),
  };
}

/** Where the two wasm files are: an explicit directory, else dist/ beside the bundle, else node_modules. */
export function locateWasm(opts: ParserInitOptions = {}): WasmLocation {
  const exists = (w: WasmLocation) => fs.existsSync(w.runtime) && fs.existsSync(w.grammar);
  if (opts.wasmDir !== undefined) {
    const w = both(path.resolve(opts.wasmDir));
    const missing = [w.runtime, w.grammar].filter(f => !fs.existsSync(f));
    if (missing.length) throw new Error(`tree-sitter wasm not found: ${missing.join(', ')}`);
    return w;
  }
  const tried: string[] = [];
  const candidates: WasmLocation[] = [both(hereDir())];
  for (let dir = hereDir(); ; dir = path.dirname(dir)) {
    candidates.push(fromNodeModules(dir), both(path.join(dir, 'dist')));
    if (path.dirname(dir) === dir) break;
  }
  candidates.push(fromNodeModules(process.cwd()));
  for (const c of candidates) {
    if (exists(c)) return c;
    tried.push(path.dirname(c.grammar));
  }
  throw new Error(`tree-sitter wasm not found (looked for ${RUNTIME_WASM} and ${C_GRAMMAR_WASM} in `
    + `${[...new Set(tried)].slice(0, 4).join(', ')} ...); pass initParser({ wasmDir })`);
}

/**
 * Load the runtime and the C grammar once. Later calls return the same language whatever their options
 * (web-tree-sitter keeps one runtime per process).
 */
export function initParser(opts: ParserInitOptions = {}): Promise<Language> {
  if (!pending) {
    pending = (async () => {
      const where = locateWasm(opts);
      await treeSitter.Parser.init({ wasmBinary: fs.readFileSync(where.runtime) });
      const lang = await treeSitter.Language.load(new Uint8Array(fs.readFileSync(where.grammar)));
      language = lang;
      return lang;
    })();
    pending.catch(() => { pending = null; });   // a later call may retry with another wasmDir
  }
  return pending;
}

/** The loaded C language; throws a clear error when initParser() has not completed. */
export function cLanguage(): Language {
  if (!language) throw new Error('C parser not loaded: await initParser() before analysing source');
  return language;
}

export function newCParser(): Parser {
  const parser = new treeSitter.Parser();
  parser.setLanguage(cLanguage());
  return parser;
}

export function newCQuery(source: string): Query {
  return new treeSitter.Query(cLanguage(), source);
}
