// A fast parser for the YAML that scenarios are written in: block maps and lists, one-line flow maps and
// lists (or multi-line ones, as in JSON), plain and one-line quoted scalars, comments. On the 2-core CI
// machine the `yaml` package needs 6 s for 100,000 steps and runs out of memory on a million; this reads
// a million steps (69 MB) in about 0.6 s of CPU.
//
// It never guesses: anything outside that subset (anchors, tags, block scalars, multi-line plain or
// quoted strings, tabs, document markers, odd indentation, and every syntax error) throws
// FastYamlUnsupported, and the caller hands the text to the `yaml` package, which then decides.
import { YEntry, YMap, YNode, YScalar, YSeq, checkDuplicateKeys, nestingMessage } from './yaml-nodes';
import { ScenarioError } from './types';
import { LIMITS } from '../limits';
import { QuotedScanner, findUnsupportedWhitespace } from './yaml-lexical';
import { ItemSpan, StepReuse } from './item-span';

export type { StepReuse } from './item-span';

/** YAML 1.2: the `:` of an implicit (not `? `) block mapping key is at most 1024 characters after its start. */
const MAX_IMPLICIT_KEY = 1024;

export class FastYamlUnsupported extends Error {
  constructor(readonly line: number, readonly col: number, readonly reason: string) {
    super(reason);
  }
}

const LF = 10, SP = 32, HASH = 35, DASH = 45, COLON = 58, COMMA = 44, QUOTE = 34, APOS = 39, DOT = 46;
const LBRACK = 91, RBRACK = 93, LBRACE = 123, RBRACE = 125, QMARK = 63, PERCENT = 37;

/** & * ! | > % @ ` : anchors, aliases, tags, block scalars, directives and reserved indicators. */
function unsupportedStart(c: number): boolean {
  return c === 38 || c === 42 || c === 33 || c === 124 || c === 62 || c === 37 || c === 64 || c === 96;
}

const CONSTRUCT_NAMES: Record<string, string> = {
  '&': 'anchor (&)', '*': 'alias (*)', '!': 'tag (!)', '|': 'block scalar (|)', '>': 'block scalar (>)', '%': 'directive (%)',
  '@': "reserved character '@'", '`': "reserved character '`'",
};

function isFlowIndicator(c: number): boolean {
  return c === COMMA || c === LBRACK || c === RBRACK || c === LBRACE || c === RBRACE;
}


/**
 * Parse `text`; null when the text holds no YAML node. Throws FastYamlUnsupported, or ScenarioError for a duplicate
 * key. With `stepSink`, each item of the top-level `steps:` list goes to the sink as soon as it is parsed
 * instead of into the tree (that list is then returned empty).
 */
export function parseFastYaml<T>(text: string, file: string, stepSink?: (item: YNode) => void, reuse?: StepReuse<T>): YNode | null {
  // CR before LF is the last character of its line, so removing it moves no column.
  const src = text.indexOf('\r') === -1 ? text : text.replace(/\r\n/g, '\n');
  return new FastParser(src, file, stepSink, reuse).document();
}

class FastParser {
  private readonly n: number;
  private i = 0;           // current offset
  private line = 1;        // 1-based line of offset i
  private ls = 0;          // offset where the current line starts
  private ind = -1;        // indentation of the current content line; -1 at end of input
  // the key found by tryKey()
  private keyText = '';
  private keyLine = 0;
  private keyCol = 0;

  private readonly quotedScanner = new QuotedScanner();
  private depth = 0;          // collections entered (1 inside the root map)
  private streamArmed = false; // the value being parsed is the root map's `steps:`
  /**
   * The first repeated key, thrown once the whole text has parsed: a syntax error later in the text is
   * reported first, as the yaml package reports it. Steps after it are no longer streamed.
   */
  private duplicate: ScenarioError | null = null;
  /** the indentation of the list whose items were reused (only one list streams; a repeated `steps:` is an error) */
  private reuseCol = -1;
  private readonly span = new ItemSpan();

  constructor(private readonly s: string, private readonly file: string, private readonly stepSink?: (item: YNode) => void,
    private readonly reuse?: StepReuse<unknown>) {
    this.n = s.length;
    if (s.charCodeAt(0) === 0xfeff) this.i = this.ls = 1;
  }

  document(): YNode | null {
    const bad = findUnsupportedWhitespace(this.s);
    if (bad) this.failAt(bad.offset, bad.reason);
    this.toContent();
    if (this.ind < 0) return null;
    const root = this.blockNode(-1);
    if (this.ind >= 0) this.fail('content after the end of the document');
    if (this.duplicate) throw this.duplicate;
    return root;
  }

  private construct(c: number): string {
    return CONSTRUCT_NAMES[String.fromCharCode(c)] ?? `unexpected '${String.fromCharCode(c)}'`;
  }

  /**
   * Nesting past the limit goes to the yaml package, which reports it at the same place unless the text has
   * an earlier syntax error (so both readers agree on which error a file gets).
   */
  private checkDepth(line: number, col: number): void {
    if (this.depth > LIMITS.nestingDepth) throw new FastYamlUnsupported(line, col, nestingMessage());
  }

  private noteDuplicates(entries: YEntry[]): void {
    if (this.duplicate) return;
    try {
      checkDuplicateKeys(entries, this.file);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      this.duplicate = e;
    }
  }

  private fail(reason: string): never {
    throw new FastYamlUnsupported(this.line, this.i - this.ls + 1, reason);
  }

  private failAt(offset: number, reason: string): never {
    let line = 1;
    let ls = 0;
    for (let j = this.s.indexOf('\n'); j !== -1 && j < offset; j = this.s.indexOf('\n', j + 1)) {
      line++;
      ls = j + 1;
    }
    throw new FastYamlUnsupported(line, offset - ls + 1, reason);
  }

  private code(j: number): number {
    return this.s.charCodeAt(j);
  }

  /** Space, line feed or end of input at offset j. */
  private blankAt(j: number): boolean {
    const c = this.s.charCodeAt(j);
    return j >= this.n || c === SP || c === LF;
  }

  private isSeqEntry(): boolean {
    return this.code(this.i) === DASH && this.blankAt(this.i + 1);
  }

  /** From the start of a line, skip blank and comment lines; leave i at the next content and set ind. */
  private toContent(): void {
    const s = this.s;
    for (;;) {
      let j = this.i;
      while (s.charCodeAt(j) === SP) j++;
      if (j >= this.n) { this.i = j; this.ind = -1; return; }
      const c = s.charCodeAt(j);
      if (c === LF || c === HASH) {
        const eol = c === LF ? j : s.indexOf('\n', j);
        if (eol === -1) { this.i = this.n; this.ind = -1; return; }
        this.i = this.ls = eol + 1;
        this.line++;
        continue;
      }
      this.i = j;
      if (j === this.ls) {
        if (c === PERCENT) this.fail('YAML directive');
        if ((c === DASH || c === DOT) && s.charCodeAt(j + 1) === c && s.charCodeAt(j + 2) === c && this.blankAt(j + 3)) {
          this.fail('document marker');
        }
      }
      this.ind = j - this.ls;
      return;
    }
  }

  /** After a value: allow spaces and a comment, move to the next content line. */
  private finishLine(): void {
    const s = this.s;
    while (s.charCodeAt(this.i) === SP) this.i++;
    const c = s.charCodeAt(this.i);
    if (c === HASH) {
      if (s.charCodeAt(this.i - 1) !== SP) this.fail('comment without a space before it');
      const eol = s.indexOf('\n', this.i);
      this.i = eol === -1 ? this.n : eol;
    } else if (this.i < this.n && c !== LF) {
      this.fail('unexpected text after a value');
    }
    if (this.i < this.n) {
      this.i = this.ls = this.i + 1;
      this.line++;
    }
    this.toContent();
  }

  /** A node starting at i on the current line, inside a block whose indentation is parentIndent. */
  private blockNode(parentIndent: number): YNode {
    const col = this.i - this.ls;
    if (this.isSeqEntry()) return this.blockSeq(col);
    if (this.tryKey()) return this.blockMap(col);
    return this.inlineValue(parentIndent);
  }

  /** If a `key:` starts at i, consume it (through the colon), fill keyText/keyLine/keyCol and return true. */
  private tryKey(): boolean {
    const s = this.s;
    const start = this.i;
    const c = s.charCodeAt(start);
    if (c === QUOTE || c === APOS) {
      const text = this.quoted();
      let j = this.i;
      while (s.charCodeAt(j) === SP) j++;
      if (s.charCodeAt(j) === COLON && this.blankAt(j + 1)) {
        if (j - start > MAX_IMPLICIT_KEY) this.fail('implicit key longer than 1024 characters');
        this.setKey(text, start);
        this.i = j + 1;
        return true;
      }
      this.i = start;
      return false;
    }
    if (c === LBRACE || c === LBRACK) return false;
    if (unsupportedStart(c) || c === COMMA || c === RBRACK || c === RBRACE) this.fail(this.construct(c));
    if ((c === QMARK || c === COLON) && this.blankAt(start + 1)) this.fail('complex mapping key');
    for (let j = start; ; j++) {
      const d = s.charCodeAt(j);
      if (j >= this.n || d === LF) return false;
      if (d === COLON && this.blankAt(j + 1)) {
        if (j - start > MAX_IMPLICIT_KEY) this.fail('implicit key longer than 1024 characters');
        let e = j;
        while (e > start && s.charCodeAt(e - 1) === SP) e--;
        this.setKey(s.slice(start, e), start);
        this.i = j + 1;
        return true;
      }
      if (d === HASH && s.charCodeAt(j - 1) === SP) return false;
    }
  }

  private setKey(text: string, offset: number): void {
    this.keyText = text;
    this.keyLine = this.line;
    this.keyCol = offset - this.ls + 1;
  }

  /** A block map at indentation col whose first key tryKey() has just read. */
  private blockMap(col: number): YMap {
    this.streamArmed = false;
    this.depth++;
    const entries: YEntry[] = [];
    const line = this.keyLine;
    const firstCol = this.keyCol;
    this.checkDepth(line, firstCol);
    for (;;) {
      const key = this.keyText;
      const keyLine = this.keyLine;
      const keyCol = this.keyCol;
      this.streamArmed = this.depth === 1 && key === 'steps';
      entries.push({ key, keyLine, keyCol, value: this.mapValue(col, keyLine, keyCol) });
      this.streamArmed = false;
      if (this.ind !== col) {
        if (this.ind > col) this.fail('unexpected indentation');
        break;
      }
      if (this.isSeqEntry()) this.fail('a list item where a key was expected');
      if (!this.tryKey()) this.fail('expected a key (name: value)');
    }
    this.noteDuplicates(entries);
    this.depth--;
    return new YMap(entries, line, firstCol);
  }

  private mapValue(col: number, keyLine: number, keyCol: number): YNode {
    const s = this.s;
    while (s.charCodeAt(this.i) === SP) this.i++;
    const c = s.charCodeAt(this.i);
    if (this.i >= this.n || c === LF || c === HASH) {
      this.finishLine();
      if (this.ind > col) return this.blockNode(col);
      if (this.ind === col && this.isSeqEntry()) return this.blockSeq(col);
      return new YScalar('', true, keyLine, keyCol);
    }
    return this.inlineValue(col);
  }

  private blockSeq(col: number): YSeq {
    const sink = this.streamArmed ? this.stepSink : undefined;
    const reuse = sink && this.reuse && (this.reuseCol === -1 || this.reuseCol === col) ? this.reuse : undefined;
    if (reuse) this.reuseCol = col;
    this.streamArmed = false;
    this.depth++;
    const items: YNode[] = [];
    const line = this.line;
    const firstCol = this.i - this.ls + 1;
    this.checkDepth(line, firstCol);
    for (;;) {
      let text: string | null = null;
      let known: unknown = null;
      const itemLine = this.line;
      if (reuse && reuse.active && !this.duplicate) {
        text = this.span.text(this.s, this.i, col);
        if (text !== null) {
          known = reuse.find(text);
          if (known !== undefined && known !== null && this.reuseItem(reuse, known, text, itemLine)) {
            if (this.ind === col && this.isSeqEntry()) continue;
            if (this.ind > col) this.fail('unexpected indentation');
            this.depth--;
            return new YSeq(items, line, firstCol);
          }
        }
      }
      this.i++;
      while (this.code(this.i) === SP) this.i++;
      const c = this.code(this.i);
      // An empty item sits where its content would have started (as the yaml package places it).
      const emptyLine = this.line;
      const emptyCol = this.i - this.ls + 1;
      let item: YNode;
      if (this.i >= this.n || c === LF || c === HASH) {
        this.finishLine();
        item = this.ind > col ? this.blockNode(col) : new YScalar('', true, emptyLine, emptyCol);
      } else {
        if (this.isSeqEntry()) this.fail('nested list on one line');
        item = this.blockNode(col);
      }
      if (sink && !this.duplicate) {
        sink(item);
        if (text !== null && known === undefined) reuse!.learn(text, itemLine);
      } else {
        items.push(item);
      }
      if (this.ind === col && this.isSeqEntry()) continue;
      if (this.ind > col) this.fail('unexpected indentation');
      this.depth--;
      return new YSeq(items, line, firstCol);
    }
  }

  /**
   * Hand the sink an item it knows by its text: move past the item as parsing it would (to the next line with
   * content), then let the sink add it. If the sink cannot, the parser goes back to the item's start.
   */
  private reuseItem(reuse: StepReuse<unknown>, known: unknown, text: string, itemLine: number): boolean {
    const { i, line, ls, ind } = this;
    const end = i + text.length;
    if (end >= this.n) {
      this.i = this.n;
      this.ind = -1;
    } else {
      this.i = this.ls = end + 1;
      this.line = itemLine + this.span.lines + 1;
      this.toContent();
    }
    if (reuse.take(known, itemLine)) return true;
    this.i = i;
    this.line = line;
    this.ls = ls;
    this.ind = ind;
    return false;
  }

  /** A value that ends on this line: flow collection, quoted or plain scalar. */
  private inlineValue(parentIndent: number): YNode {
    const c = this.code(this.i);
    const line = this.line;
    const col = this.i - this.ls + 1;
    let node: YNode;
    if (c === LBRACE || c === LBRACK) node = this.flowCollection(parentIndent);
    else if (c === QUOTE || c === APOS) node = new YScalar(this.quoted(), false, line, col);
    else node = new YScalar(this.blockPlain(), true, line, col);
    this.finishLine();
    if (this.ind > parentIndent) this.fail('unexpected indentation (a value continued on the next line?)');
    return node;
  }

  private blockPlain(): string {
    const s = this.s;
    const start = this.i;
    const c = s.charCodeAt(start);
    if (unsupportedStart(c) || c === COMMA || c === RBRACK || c === RBRACE) this.fail(this.construct(c));
    if ((c === DASH || c === QMARK || c === COLON) && this.blankAt(start + 1)) this.fail('unexpected indicator');
    let j = start;
    for (; j < this.n; j++) {
      const d = s.charCodeAt(j);
      if (d === LF) break;
      if (d === HASH && s.charCodeAt(j - 1) === SP) break;
      if (d === COLON && this.blankAt(j + 1)) { this.i = j; this.fail('a mapping inside a value'); }
    }
    let e = j;
    while (s.charCodeAt(e - 1) === SP) e--;
    this.i = j;
    return s.slice(start, e);
  }

  private flowCollection(blockIndent: number): YMap | YSeq {
    const isMap = this.code(this.i) === LBRACE;
    const sink = !isMap && this.streamArmed ? this.stepSink : undefined;
    this.streamArmed = false;
    this.depth++;
    const line = this.line;
    const col = this.i - this.ls + 1;
    this.checkDepth(line, col);
    this.i++;
    const entries: YEntry[] = [];
    const items: YNode[] = [];
    const close = isMap ? RBRACE : RBRACK;
    for (;;) {
      this.flowSpace(blockIndent);
      let c = this.code(this.i);
      if (c === close) { this.i++; break; }
      if (isMap) {
        const keyLine = this.line;
        const keyCol = this.i - this.ls + 1;
        if (c === LBRACE || c === LBRACK) this.fail('complex mapping key');
        const key = c === QUOTE || c === APOS ? this.quoted() : this.flowPlain();
        this.flowSpace(blockIndent);
        if (this.code(this.i) !== COLON) this.fail('expected ":" after a key');
        this.i++;
        this.flowSpace(blockIndent);
        c = this.code(this.i);
        this.streamArmed = this.depth === 1 && key === 'steps';
        const value = c === COMMA || c === RBRACE ? new YScalar('', true, keyLine, keyCol) : this.flowValue(blockIndent);
        this.streamArmed = false;
        entries.push({ key, keyLine, keyCol, value });
      } else if (sink) {
        const item = this.flowValue(blockIndent);
        if (this.duplicate) items.push(item); else sink(item);
      } else {
        items.push(this.flowValue(blockIndent));
      }
      this.flowSpace(blockIndent);
      c = this.code(this.i);
      if (c === COMMA) { this.i++; continue; }
      if (c === close) { this.i++; break; }
      this.fail(isMap ? 'expected "," or "}"' : 'expected "," or "]"');
    }
    this.depth--;
    if (!isMap) return new YSeq(items, line, col);
    this.noteDuplicates(entries);
    return new YMap(entries, line, col);
  }

  /** Spaces, comments and line breaks inside a flow collection. */
  private flowSpace(blockIndent: number): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === SP) { this.i++; continue; }
      if (c === LF) {
        this.i = this.ls = this.i + 1;
        this.line++;
        let j = this.i;
        while (s.charCodeAt(j) === SP) j++;
        const d = s.charCodeAt(j);
        if (j < this.n && d !== LF && d !== HASH && j - this.ls <= blockIndent) {
          this.i = j;
          this.fail('flow collection continued at too small an indentation');
        }
        continue;
      }
      if (c === HASH) {
        const p = s.charCodeAt(this.i - 1);
        if (p !== SP && p !== LF) this.fail('comment without a space before it');
        const eol = s.indexOf('\n', this.i);
        this.i = eol === -1 ? this.n : eol;
        continue;
      }
      return;
    }
  }

  private flowValue(blockIndent: number): YNode {
    const c = this.code(this.i);
    const line = this.line;
    const col = this.i - this.ls + 1;
    if (this.i >= this.n) this.fail('unterminated flow collection');
    if (c === LBRACE || c === LBRACK) return this.flowCollection(blockIndent);
    if (c === QUOTE || c === APOS) return new YScalar(this.quoted(), false, line, col);
    return new YScalar(this.flowPlain(), true, line, col);
  }

  private flowPlain(): string {
    const s = this.s;
    const start = this.i;
    const c = s.charCodeAt(start);
    if (unsupportedStart(c)) this.fail(this.construct(c));
    if (isFlowIndicator(c) || c === HASH || start >= this.n) this.fail('expected a value');
    if ((c === DASH || c === QMARK || c === COLON) && (this.blankAt(start + 1) || isFlowIndicator(s.charCodeAt(start + 1)))) {
      this.fail('unexpected indicator');
    }
    let j = start;
    for (; j < this.n; j++) {
      const d = s.charCodeAt(j);
      if (d === LF || isFlowIndicator(d)) break;
      if (d === HASH && s.charCodeAt(j - 1) === SP) break;
      if (d === COLON && (this.blankAt(j + 1) || isFlowIndicator(s.charCodeAt(j + 1)))) break;
    }
    let e = j;
    while (s.charCodeAt(e - 1) === SP) e--;
    this.i = j;
    return s.slice(start, e);
  }

  /** A one-line quoted scalar at i; leaves i after the closing quote. */
  private quoted(): string {
    const q = this.quotedScanner;
    if (!q.scan(this.s, this.i)) {
      this.i = q.end;
      this.fail(q.reason);
    }
    this.i = q.end;
    return q.text;
  }
}
