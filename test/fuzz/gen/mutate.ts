// Text mutations of an input file: the edits a half-written file, a bad merge or a wrong encoding produce.
// Each mutation is data (kind + numbers), so fast-check can shrink a failing sequence to the edit that matters.
import fc from 'fast-check';

export interface Mutation { kind: number; a: number; b: number; c: number }

const INSERTS = [':', ': ', '-', '- ', '#', ' #', '[', ']', '{', '}', ',', '"', "'", '\t', '\r', '\\', ' ', '  ', '\n', '&a ', '*a', '!!str ',
  '|', '>', '---\n', '%YAML 1.2\n', '? ', '@', '`', 'é', '😀', '\u2028', '\u0085', '\ufeff', '\ud800', '\udc00', '\u0000', '\u0007', '\x7f',
  '0x', '$', '$nope', '+', '~', 'null', '\\u0041', '\\x', '{a: 1, a: 2}', '[1, [2, [3]]]'];
const NUMBERS = ['18446744073709551615', '9007199254740993', '-1', '1P', '0x' + 'f'.repeat(20), '1e308', '-0', '0.5', '99999999999999999999999'];

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({ kind: fc.nat(15), a: fc.nat(), b: fc.nat(), c: fc.nat() });

/** Applies the mutations in order. `huge` allows the rare megabyte-sized ones. */
export function mutate(text: string, ms: readonly Mutation[], huge = true): string {
  for (const m of ms) text = applyOne(text, m, huge);
  return text;
}

function lines(t: string): string[] { return t.split('\n'); }

function applyOne(t: string, m: Mutation, huge: boolean): string {
  const at = t.length ? m.a % (t.length + 1) : 0;
  const ls = lines(t);
  const li = m.a % ls.length;
  switch (m.kind) {
    case 0: return t.slice(0, at);                                                        // truncated
    case 1: ls.splice(li, 1); return ls.join('\n');                                       // a line lost
    case 2: ls.splice(li, 0, ls[li]); return ls.join('\n');                               // a line doubled
    case 3: { const lj = m.b % ls.length; [ls[li], ls[lj]] = [ls[lj], ls[li]]; return ls.join('\n'); }
    case 4: case 5: case 6: return t.slice(0, at) + INSERTS[m.b % INSERTS.length] + t.slice(at);
    case 7: ls[li] = m.b % 2 ? ' '.repeat(1 + (m.c % 3)) + ls[li] : ls[li].replace(/^ {1,3}/, ''); return ls.join('\n');
    case 8: return t.replace(/\b(0x[0-9a-f]+|[0-9]+[KMGT]?)\b/, () => NUMBERS[m.b % NUMBERS.length]);
    case 9: { const d = [3, 40, 63, 64, 65, 70, 2000][m.b % 7]; const open = m.c % 2 ? '[' : '{a: '; const close = m.c % 2 ? ']' : '}';
      return t.slice(0, at) + open.repeat(d) + close.repeat(d) + t.slice(at); }
    case 10: return t.slice(0, at) + String.fromCharCode(m.b % 0x10000) + t.slice(at);    // any UTF-16 unit
    case 11: return t.replace(/\n/g, m.b % 2 ? '\r\n' : '\r');
    case 12: return '\ufeff' + t;
    case 13: {                                                                             // a megabyte line
      if (!huge || m.c % 8 !== 0) return t;
      const n = 1 << 20;
      const line = m.b % 3 === 0 ? '# ' + 'x'.repeat(n) : m.b % 3 === 1 ? 'name: ' + 'y'.repeat(n) : 'x: [' + '1, '.repeat(n / 3) + '1]';
      ls.splice(li, 0, line);
      return ls.join('\n');
    }
    case 14: return t.slice(0, at) + t.slice(Math.min(t.length, at + 1 + (m.b % 40)));   // a cut in the middle
    default: { const lj = m.b % ls.length; ls[li] = ls[lj]; return ls.join('\n'); }       // a line pasted over another
  }
}
