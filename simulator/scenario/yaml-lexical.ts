// Character-level helpers of the fast YAML parser: one-line quoted scalars ('single', with '' for a quote,
// and "double", with the YAML escapes) and the whitespace it does not handle. A string that continues on
// the next line, an unknown escape, a tab or a lone CR is reported back, so that the `yaml` package reads
// the file instead.

const LF = 10, QUOTE = 34, APOS = 39, BACKSLASH = 92;

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"', '\\': '\\', '/': '/', n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', f: '\f', e: '\x1b', a: '\x07',
  v: '\x0b', ' ': ' ', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029',
};
const HEX_ESCAPE_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };
const HEX = /^[0-9a-fA-F]+$/;

/** Reused for every scalar of a file, so that reading one allocates nothing but its text. */
export class QuotedScanner {
  text = '';
  /** after scan(): offset after the closing quote, or where reading stopped */
  end = 0;
  reason = '';

  /** Read the scalar whose opening quote is at `start`; false (with end and reason set) if it cannot. */
  scan(s: string, start: number): boolean {
    const n = s.length;
    const double = s.charCodeAt(start) === QUOTE;
    let j = start + 1;
    let out = '';
    let seg = j;
    for (;;) {
      const c = s.charCodeAt(j);
      if (j >= n || c === LF) return this.stop(j, 'multi-line or unterminated quoted string');
      if (double ? c === QUOTE : c === APOS) {
        if (!double && s.charCodeAt(j + 1) === APOS) {
          out += s.slice(seg, j + 1);
          j += 2;
          seg = j;
          continue;
        }
        this.text = out + s.slice(seg, j);
        this.end = j + 1;
        return true;
      }
      if (double && c === BACKSLASH) {
        out += s.slice(seg, j);
        const e = s[j + 1];
        const simple = SIMPLE_ESCAPES[e];
        const hexLen = HEX_ESCAPE_LENGTH[e];
        if (simple !== undefined) {
          out += simple;
          j += 2;
        } else if (hexLen !== undefined) {
          const hex = s.slice(j + 2, j + 2 + hexLen);
          const cp = hex.length === hexLen && HEX.test(hex) ? parseInt(hex, 16) : NaN;
          if (!(cp <= 0x10ffff)) return this.stop(j, 'bad escape in a quoted string');
          out += String.fromCodePoint(cp);
          j += 2 + hexLen;
        } else {
          return this.stop(j, 'bad escape in a quoted string');
        }
        seg = j;
        continue;
      }
      j++;
    }
  }

  private stop(at: number, reason: string): false {
    this.end = at;
    this.reason = reason;
    return false;
  }
}

/** The first tab outside a comment, or a carriage return not followed by a line feed (already removed). */
export function findUnsupportedWhitespace(s: string): { offset: number; reason: string } | undefined {
  const cr = s.indexOf('\r');
  if (cr !== -1) return { offset: cr, reason: 'carriage return without line feed' };
  // a byte-order mark past the first character: the yaml package skips it at a line start, the fast parser would not
  const bom = s.indexOf('\ufeff', 1);
  if (bom !== -1) return { offset: bom, reason: 'byte-order mark inside the text' };
  for (let tab = s.indexOf('\t'); tab !== -1; tab = s.indexOf('\t', tab + 1)) {
    if (!inComment(s, tab)) return { offset: tab, reason: 'tab character' };
  }
  return undefined;
}

/** Whether offset `at` follows a `#` that starts a comment on its line (tabs there are harmless). */
function inComment(s: string, at: number): boolean {
  const ls = s.lastIndexOf('\n', at) + 1;
  for (let p = s.indexOf('#', ls); p !== -1 && p < at; p = s.indexOf('#', p + 1)) {
    const before = s.charCodeAt(p - 1);
    if (p === ls || before === 32 || before === 9) return true;
  }
  return false;
}
