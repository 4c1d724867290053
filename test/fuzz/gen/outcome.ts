// What counts as an acceptable outcome of bad input: a ScenarioError whose position lies in the text and whose
// message is one readable line. Everything else (TypeError, RangeError, a message with "[object Object]") is a
// defect the fuzzers report.
import assert from 'node:assert/strict';
import { ScenarioError } from '../../../simulator/scenario/types';

/** Asserts `e` is a clear input error for `text` loaded as `file`; rethrows anything else. */
export function assertClearError(e: unknown, text: string, file: string): void {
  if (!(e instanceof ScenarioError)) throw e;
  const { pos } = e;
  assert.ok(pos.file === file || pos.file.startsWith('preset:'), `error names file ${pos.file}, not ${file}: ${e.message}`);
  assert.ok(Number.isInteger(pos.line) && pos.line >= 1, `line ${pos.line}: ${e.message}`);
  assert.ok(Number.isInteger(pos.col) && pos.col >= 1, `column ${pos.col}: ${e.message}`);
  if (pos.file === file) {
    const lines = text.split('\n');
    assert.ok(pos.line <= lines.length + 1, `line ${pos.line} is past the end (${lines.length} lines): ${e.message}`);
  }
  assertReadable(e.message, text);
}

/** One line, no leaked JS internals. */
export function assertReadable(message: string, input: string): void {
  assert.ok(message.length > 0, 'empty error message');
  assert.ok(!message.includes('\n'), `multi-line error message: ${JSON.stringify(message.slice(0, 300))}`);
  assert.ok(!message.includes('[object Object]'), `message shows [object Object]: ${message}`);
  for (const word of ['undefined', 'NaN']) {
    assert.ok(!message.includes(word) || input.includes(word), `message shows ${word}: ${message}`);
  }
}
