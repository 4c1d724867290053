// Scenario values: exact sizes and addresses, and `$ref` expressions resolved when a step runs.
//
// Literals (what the loader accepts for a size or address):
//   4096   0x4000 (or 0X4000)   16K   2M   1G   1T   1P      binary multiples, as the kernel's memparse()
//   16k 2m ...                                              lower case is the same (memparse accepts both)
//   16KiB 2MiB 1GiB 1TiB 1PiB                               IEC spelling, exact case
//   1.5K = 1536                                             a fraction is fine when the bytes come out whole
// Refused with a message, never rounded: 0.3K (not whole bytes), 4096.5, 1e3, "16KB"/"16 K" (ambiguous or
// spaced suffix), negative sizes, and anything above 2^53-1 (JS numbers are exact only up to there). The
// checks run on the text as written, so a YAML integer such as 18446744073709551615 is caught before any
// conversion to a double could round it.
import { RefExpr, ScenarioError, SourcePos } from './types';
import { didYouMean } from './suggest';

export const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/** A literal that could not be read; the caller adds the position. Only allocated on error. */
export class BadValue {
  constructor(readonly message: string) {}
}

const SUFFIXES: Record<string, number> = {
  K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50,
  k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50,
  KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40, PiB: 2 ** 50,
};

export interface LiteralOptions {
  /** allow a leading '-' (signed int fields) */
  negative?: boolean;
  /** allow K/M/G... and fractions (sizes); plain integer fields say false */
  suffix?: boolean;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isHexDigit = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isIdentStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isIdentChar = (c: number) => isIdentStart(c) || isDigit(c);

function tooBig(text: string): BadValue {
  return new BadValue(`value ${text} cannot be represented exactly (limit 2^53-1)`);
}

function notANumber(text: string, suffix: boolean): BadValue {
  const what = suffix ? 'a size or address (integer, "0x4000" or "16K")' : 'an integer';
  if (text === '') return new BadValue(`expected ${what}, got nothing`);
  if (/^[0-9.]+\s*(KB|MB|GB|TB|kB|B)$/.test(text) || /^[0-9.]+\s+[KMGTP](iB)?$/.test(text)) {
    return new BadValue(`'${text}' is not a size: write 16K or 16KiB (binary multiples, no space)`);
  }
  return new BadValue(`expected ${what}, got '${text}'`);
}

/** Read an exact integer literal (see the header comment). Returns BadValue instead of throwing. */
export function parseLiteral(text: string, opts: LiteralOptions = { suffix: true }): number | BadValue {
  const n = text.length;
  let i = 0;
  let negative = false;
  const first = text.charCodeAt(0);
  if (first === 45 || first === 43) {
    negative = first === 45;
    i = 1;
  }
  let value: number;
  if (text.charCodeAt(i) === 48 && (text.charCodeAt(i + 1) | 0x20) === 120) {
    let start = i + 2;
    if (start >= n) return notANumber(text, opts.suffix !== false);
    for (let j = start; j < n; j++) if (!isHexDigit(text.charCodeAt(j))) return notANumber(text, opts.suffix !== false);
    while (start < n - 1 && text.charCodeAt(start) === 48) start++;
    if (n - start > 14) return tooBig(text);
    value = parseInt(text.slice(start), 16);
    if (value > MAX_EXACT) return tooBig(text);
  } else {
    const intStart = i;
    while (isDigit(text.charCodeAt(i))) i++;
    const intEnd = i;
    let fracStart = i;
    let fracEnd = i;
    if (text.charCodeAt(i) === 46) {
      fracStart = ++i;
      while (isDigit(text.charCodeAt(i))) i++;
      fracEnd = i;
    }
    if (intEnd === intStart && fracEnd === fracStart) return notANumber(text, opts.suffix !== false);
    let mult = 1;
    if (i < n) {
      const m = opts.suffix === false ? undefined : SUFFIXES[text.slice(i)];
      if (m === undefined) return notANumber(text, opts.suffix !== false);
      mult = m;
    }
    if (fracEnd > fracStart || text.charCodeAt(intEnd) === 46) {
      if (opts.suffix === false) return new BadValue(`expected an integer, got '${text}'`);
      const digits = BigInt(text.slice(intStart, intEnd) + text.slice(fracStart, fracEnd) || '0') * BigInt(mult);
      const scale = 10n ** BigInt(fracEnd - fracStart);
      if (digits % scale !== 0n) {
        return new BadValue(mult === 1 ? `'${text}' is not a whole number` : `'${text}' is not a whole number of bytes`);
      }
      const whole = digits / scale;
      if (whole > BigInt(MAX_EXACT)) return tooBig(text);
      value = Number(whole);
    } else if (intEnd - intStart <= 15) {
      value = parseInt(text.slice(intStart, intEnd), 10) * mult;
      if (value > MAX_EXACT) return tooBig(text);
    } else {
      const whole = BigInt(text.slice(intStart, intEnd)) * BigInt(mult);
      if (whole > BigInt(MAX_EXACT)) return tooBig(text);
      value = Number(whole);
    }
  }
  if (negative) {
    if (!opts.negative) {
      return new BadValue(`negative value ${text} is not allowed here` + (opts.suffix !== false ? ' (sizes and addresses are unsigned)' : ''));
    }
    return value === 0 ? 0 : -value;
  }
  return value;
}

/** Parse `$name`, `$name.field`, `$sg.entries[1].dma` joined with + / - and literal terms. */
export function parseRefExpr(text: string, pos: SourcePos): RefExpr | BadValue {
  const terms: RefExpr['terms'] = [];
  const n = text.length;
  let i = 0;
  let sign: 1 | -1 = 1;
  const syntax = (what: string) =>
    new BadValue(`bad reference '${text}': ${what} (write $name, $name.field or $name.list[N], joined with + or -)`);
  for (;;) {
    while (text.charCodeAt(i) === 32) i++;
    if (i >= n) return syntax(`expected a value after '${sign > 0 ? '+' : '-'}'`);
    if (text.charCodeAt(i) === 36) {
      const nameStart = ++i;
      if (!isIdentStart(text.charCodeAt(i))) return syntax(`expected a name after '$'`);
      while (isIdentChar(text.charCodeAt(i))) i++;
      const name = text.slice(nameStart, i);
      const path: Array<string | number> = [];
      for (;;) {
        const c = text.charCodeAt(i);
        if (c === 46) {
          const s = ++i;
          if (!isIdentStart(text.charCodeAt(i))) return syntax(`expected a field name after '.'`);
          while (isIdentChar(text.charCodeAt(i))) i++;
          path.push(text.slice(s, i));
        } else if (c === 91) {
          const s = ++i;
          while (isDigit(text.charCodeAt(i))) i++;
          if (i === s || i - s > 9 || text.charCodeAt(i) !== 93) return syntax('expected [N] with a whole number N');
          path.push(Number(text.slice(s, i)));
          i++;
        } else {
          break;
        }
      }
      terms.push({ sign, ref: { name, path } });
    } else {
      const s = i;
      while (i < n && text[i] !== ' ' && text[i] !== '+' && text[i] !== '-') i++;
      const lit = parseLiteral(text.slice(s, i));
      if (lit instanceof BadValue) return new BadValue(`in '${text}': ${lit.message}`);
      terms.push({ sign, value: lit });
    }
    while (text.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const op = text.charCodeAt(i);
    if (op !== 43 && op !== 45) return syntax(`unexpected '${text[i]}'`);
    sign = op === 43 ? 1 : -1;
    i++;
  }
  return { kind: 'expr', text, terms, pos };
}

/** A literal or a `$` expression, for run-time reuse; throws ScenarioError at pos. */
export function parseValueExpr(text: string, pos: SourcePos, opts: LiteralOptions = { suffix: true }): number | RefExpr {
  const v = text.charCodeAt(0) === 36 ? parseRefExpr(text, pos) : parseLiteral(text, opts);
  if (v instanceof BadValue) throw new ScenarioError(pos, v.message);
  return v;
}

/** `$sg.entries[1]` as written, for messages. */
export function refText(name: string, path: ReadonlyArray<string | number>, upTo = path.length): string {
  let s = '$' + name;
  for (let k = 0; k < upTo; k++) s += typeof path[k] === 'number' ? `[${path[k]}]` : `.${path[k]}`;
  return s;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** The value a single reference names (walking its fields and indexes), for handle arguments. */
export function resolveRef(expr: RefExpr, ref: { name: string; path: Array<string | number> }, lookup: (name: string) => unknown): unknown {
  let v = lookup(ref.name);
  if (v === undefined) throw new ScenarioError(expr.pos, `'$${ref.name}' has no value (the step that set it returned nothing)`);
  for (let k = 0; k < ref.path.length; k++) {
    const step = ref.path[k];
    const here = refText(ref.name, ref.path, k);
    if (typeof step === 'number') {
      if (!Array.isArray(v)) throw new ScenarioError(expr.pos, `'${here}' is ${describe(v)}, not a list; it has no [${step}]`);
      if (step >= v.length) throw new ScenarioError(expr.pos, `'${here}[${step}]' is out of range: '${here}' has ${v.length} entries`);
      v = v[step];
    } else {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        throw new ScenarioError(expr.pos, `'${here}' is ${describe(v)}; it has no field '${step}'`);
      }
      const obj = v as Record<string, unknown>;
      if (!Object.prototype.hasOwnProperty.call(obj, step)) {
        const fields = Object.keys(obj);
        throw new ScenarioError(expr.pos, `'${here}' has no field '${step}'${didYouMean(step, fields)} (fields: ${fields.join(', ') || 'none'})`);
      }
      v = obj[step];
    }
  }
  return v;
}

/** Evaluate an expression when its step runs. Throws ScenarioError at expr.pos; negative results only if `signed`. */
export function resolveExpr(expr: RefExpr, lookup: (name: string) => unknown, opts: { signed?: boolean } = {}): number {
  let sum = 0;
  for (const term of expr.terms) {
    let v: number;
    if (term.ref) {
      const raw = resolveRef(expr, term.ref, lookup);
      const shown = refText(term.ref.name, term.ref.path);
      if (typeof raw === 'bigint' && raw <= BigInt(MAX_EXACT) && raw >= -BigInt(MAX_EXACT)) v = Number(raw);
      else if (typeof raw === 'number') v = raw;
      else if (raw === null) throw new ScenarioError(expr.pos, `'${shown}' is null, not a number (did the step that set it fail?)`);
      else if (typeof raw === 'object' && !Array.isArray(raw)) {
        throw new ScenarioError(expr.pos, `'${shown}' is an object, not a number; name one of its fields: ${Object.keys(raw).join(', ')}`);
      } else throw new ScenarioError(expr.pos, `'${shown}' is ${describe(raw)}, not a number`);
      if (!Number.isSafeInteger(v)) throw new ScenarioError(expr.pos, `'${shown}' is ${v}, not an exact integer`);
    } else {
      v = term.value ?? 0;
    }
    sum += term.sign * v;
    if (!Number.isSafeInteger(sum)) throw new ScenarioError(expr.pos, `'${expr.text}' cannot be represented exactly (limit 2^53-1)`);
  }
  if (sum < 0 && !opts.signed) throw new ScenarioError(expr.pos, `'${expr.text}' evaluates to ${sum}, which is negative`);
  return sum;
}
