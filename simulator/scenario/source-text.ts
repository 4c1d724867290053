// Scenario files are UTF-8 text. A NUL byte (a binary file), UTF-16, or bytes that are not UTF-8 are bad
// input with a position, not mojibake passed on to the YAML parser.
import { ScenarioError, SourcePos } from './types';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decode file bytes; throws ScenarioError naming the first bad byte. */
export function decodeScenarioBytes(bytes: Uint8Array, file: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new ScenarioError({ file, line: 1, col: 1 }, 'file is UTF-16 text; save it as UTF-8');
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw new ScenarioError(bytePos(bytes, nul, file), 'file contains a NUL byte: scenario files must be UTF-8 text');
  try {
    return utf8.decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    throw new ScenarioError(bytePos(bytes, bad, file), `invalid UTF-8 (byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')}): scenario files must be UTF-8 text`);
  }
}

/** A NUL in already-decoded text (loadScenario called with a string). */
export function checkNoNul(text: string, file: string): void {
  const nul = text.indexOf('\0');
  if (nul === -1) return;
  const before = text.slice(0, nul);
  const line = before.split('\n').length;
  throw new ScenarioError({ file, line, col: nul - before.lastIndexOf('\n') }, 'text contains a NUL character: scenario files must be UTF-8 text');
}

function bytePos(bytes: Uint8Array, offset: number, file: string): SourcePos {
  let line = 1;
  let lineStart = 0;
  for (let j = 0; j < offset; j++) {
    if (bytes[j] === 0x0a) {
      line++;
      lineStart = j + 1;
    }
  }
  // Column in characters: decode the valid part of the line leniently.
  const col = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, offset)).length + 1;
  return { file, line, col };
}

/** Offset of the first byte that breaks UTF-8 (overlongs, surrogates and > U+10FFFF included). */
export function firstInvalidUtf8(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) { i++; continue; }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) { need = 2; if (c === 0xe0) lo = 0xa0; if (c === 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; if (c === 0xf0) lo = 0x90; if (c === 0xf4) hi = 0x8f; }
    else return i;
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined) return i;
      if (k === 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return i;
    }
    i += need + 1;
  }
  return n;
}
