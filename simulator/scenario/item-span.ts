// Items of the streamed `steps:` list cut out as text, for a sink that makes steps again from texts it has seen
// (step-templates.ts). A text is cut out only when any item with that text parses the same way wherever it
// stands in the list: every line after its first is indented deeper than the list, and the next line with
// content is not (blank and comment lines between items are fine).

/**
 * What a step sink may offer besides taking parsed items: making a step again from the text of an item it has
 * already been given (generated files repeat step texts). The parser cuts an item's text out only when any
 * item with that text parses the same way: every line after its first is indented deeper than the list, and
 * the next line with content is not. `T` is the sink's own record of a text.
 */
export interface StepReuse<T> {
  /** false once texts stopped repeating: the parser then stops cutting them out */
  readonly active: boolean;
  /** what the sink knows of an item with exactly this text: undefined (never seen), null (seen, not reusable) */
  find(text: string): T | null | undefined;
  /** add the step again for an item on `line`; false when it cannot be done (the item is then parsed) */
  take(known: T, line: number): boolean;
  /** the item just handed to the sink, never seen before, had this text and started on `line` */
  learn(text: string, line: number): void;
}

const LF = 10, SP = 32, HASH = 35;

/** Reused for every item of a file. */
export class ItemSpan {
  /** lines after the first in the last text cut out */
  lines = 0;

  /**
   * The text of the list item whose '-' is at `start` (indentation `col`), from the '-' to the end of its last
   * line, when it is such a run of lines; null otherwise.
   */
  text(s: string, start: number, col: number): string | null {
    const n = s.length;
    let end = s.indexOf('\n', start);
    let lines = 0;
    while (end !== -1) {
      const next = end + 1;
      let j = next;
      while (s.charCodeAt(j) === SP) j++;
      if (j >= n) break;
      const c = s.charCodeAt(j);
      if (c === LF || c === HASH) {
        if (!shallowAfter(s, j, col)) return null;
        break;
      }
      if (j - next <= col) break;
      lines++;
      end = s.indexOf('\n', j);
    }
    this.lines = lines;
    return end === -1 ? s.slice(start) : s.slice(start, end);
  }
}

/** From inside a blank or comment line at j: whether the next line with content is indented at most col (or absent). */
function shallowAfter(s: string, j: number, col: number): boolean {
  const n = s.length;
  for (let eol = s.indexOf('\n', j); eol !== -1; eol = s.indexOf('\n', eol + 1)) {
    let k = eol + 1;
    while (s.charCodeAt(k) === SP) k++;
    if (k >= n) return true;
    const c = s.charCodeAt(k);
    if (c === LF) { eol = k - 1; continue; }
    if (c === HASH) { eol = s.indexOf('\n', k); if (eol === -1) return true; eol--; continue; }
    return k - (eol + 1) <= col;
  }
  return true;
}
