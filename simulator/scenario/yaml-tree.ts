// YAML or JSON text to the tree of yaml-nodes.ts. Two parsers produce it: a fast one for the plain
// block/flow YAML (and JSON) that scenarios are written in (fast-yaml.ts), and the `yaml` package for
// everything else, which is also the authority on syntax errors.
import { Document, LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { ScenarioError } from './types';
import { FastYamlUnsupported, StepReuse, parseFastYaml } from './fast-yaml';
import { YEntry, YMap, YNode, YScalar, YSeq, checkDuplicateKeys, nestingMessage, tooDeep } from './yaml-nodes';
import { LIMITS, LIMITS_DOC } from '../limits';

/**
 * Files over this size are never handed to the `yaml` package: it needs about 6 µs per character (a 1 MiB file
 * with one syntax error took 12 s to report it), so larger files must stay in the fast parser's subset.
 */
const LARGE_FILE = LIMITS.yamlPackageBytes;

export interface ParsedTree {
  root: YNode | null;            // null for an empty document
  /** the top-level `steps:` items went to the step sink as they were parsed (the tree's list is empty) */
  streamed: boolean;
}

/**
 * Parse YAML or JSON text into a tree. Throws ScenarioError. A step sink is used only by the fast parser;
 * when the text needs the `yaml` package instead, `streamed` is false and the sink's work must be dropped.
 * `reuse` lets the sink make steps again from item texts it has seen (fast-yaml.ts StepReuse).
 */
export function parseTree<T>(text: string, file: string, stepSink?: (item: YNode) => void, reuse?: StepReuse<T>): ParsedTree {
  let tooDeep: FastYamlUnsupported | null = null;
  try {
    return { root: parseFastYaml(text, file, stepSink, reuse), streamed: stepSink !== undefined };
  } catch (e) {
    if (!(e instanceof FastYamlUnsupported)) throw e;
    if (e.reason === nestingMessage()) tooDeep = e;
    else if (text.length > LARGE_FILE) {
      throw new ScenarioError({ file, line: e.line, col: e.col },
        `${e.reason} (a file over ${LARGE_FILE / 1024} KiB is read by the fast parser only: plain block and flow YAML or JSON, ` +
        `without anchors, tags, tabs or multi-line strings; see ${LIMITS_DOC})`);
    }
  }
  if (tooDeep && text.length > LARGE_FILE) throw new ScenarioError({ file, line: tooDeep.line, col: tooDeep.col }, tooDeep.reason);
  try {
    return { root: parseWithYamlPackage(text, file), streamed: false };
  } catch (e) {
    // The yaml package may overflow its own stack on such nesting and report it elsewhere: the first map or
    // list past the limit is the place to show (a syntax error earlier in the text still comes first).
    if (tooDeep && e instanceof ScenarioError && e.message === tooDeep.reason) {
      throw new ScenarioError({ file, line: tooDeep.line, col: tooDeep.col }, tooDeep.reason);
    }
    throw e;
  }
}

export function parseWithYamlPackage(text: string, file: string): YNode | null {
  // A byte-order mark is not a column (editors do not show it; the fast parser skips it too).
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, schema: 'core' });
  const err = doc.errors[0];
  if (err) {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    // The yaml package reports its own stack overflow on absurd nesting as a syntax error.
    if (/Maximum call stack size exceeded/.test(err.message)) throw new ScenarioError({ file, line, col }, nestingMessage());
    throw new ScenarioError({ file, line, col }, `YAML syntax: ${err.message.replace(/\s+/g, ' ').trim()}`);
  }
  if (doc.contents === null) return null;
  return new YamlConverter(doc, lineCounter, file).convert(doc.contents as YamlNode, 0, 0);
}

class YamlConverter {
  /** nodes produced by expanding aliases (a "billion laughs" file repeats anchors exponentially) */
  private aliasNodes = 0;
  private inAlias = 0;
  /** resolve() searches the document for the anchor: once per alias node is enough */
  private readonly targets = new Map<YamlNode, YamlNode | undefined>();

  constructor(private readonly doc: Document, private readonly lc: LineCounter, private readonly file: string) {}

  private pos(offset: number): { line: number; col: number } {
    return this.lc.linePos(offset);
  }

  /** `level`: maps and lists around this node (a map or list here is at level + 1). */
  convert(node: YamlNode | null, fallbackOffset: number, level: number): YNode {
    if (this.inAlias > 0 && ++this.aliasNodes > LIMITS.aliasNodes) {
      this.fail(fallbackOffset, `aliases expand to more than ${LIMITS.aliasNodes} nodes (simulator limit aliasNodes; see ${LIMITS_DOC})`);
    }
    if (node === null || node === undefined) {
      const p = this.pos(fallbackOffset);
      return new YScalar('', true, p.line, p.col);
    }
    const start = node.range ? node.range[0] : fallbackOffset;
    if (isAlias(node)) {
      if (!this.targets.has(node)) this.targets.set(node, node.resolve(this.doc) as YamlNode | undefined);
      const target = this.targets.get(node);
      if (!target) this.fail(start, `unknown alias '*${node.source}'`);
      this.inAlias++;
      try {
        return this.convert(target as YamlNode, start, level);
      } finally {
        this.inAlias--;
      }
    }
    const p = this.pos(start);
    if (isScalar(node)) {
      if (node.type === 'PLAIN') return new YScalar(String(node.source ?? ''), true, p.line, p.col);
      return new YScalar(String(node.value ?? ''), false, p.line, p.col);
    }
    if (isSeq(node) || isMap(node)) tooDeep(level + 1, this.file, p.line, p.col);
    if (isSeq(node)) {
      return new YSeq(node.items.map(item => this.convert(item as YamlNode, start, level + 1)), p.line, p.col);
    }
    if (isMap(node)) {
      const entries: YEntry[] = [];
      for (const pair of node.items) {
        const key = pair.key as YamlNode | null;
        const keyOffset = key?.range ? key.range[0] : start;
        if (!isScalar(key)) this.fail(keyOffset, 'keys must be plain names, not lists or mappings');
        const kp = this.pos(keyOffset);
        const keyText = key.type === 'PLAIN' ? String(key.source ?? '') : String(key.value ?? '');
        let value = this.convert(pair.value as YamlNode | null, keyOffset, level + 1);
        // A missing value points at its key, as in the fast parser.
        if (value.kind === 'scalar' && value.plain && value.text === '') value = new YScalar('', true, kp.line, kp.col);
        entries.push({ key: keyText, keyLine: kp.line, keyCol: kp.col, value });
      }
      checkDuplicateKeys(entries, this.file);
      return new YMap(entries, p.line, p.col);
    }
    return this.fail(start, 'unsupported YAML node');
  }

  private fail(offset: number, message: string): never {
    const p = this.pos(offset);
    throw new ScenarioError({ file: this.file, line: p.line, col: p.col }, message);
  }
}
