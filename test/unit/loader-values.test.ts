// Exact literals and run-time reference resolution (simulator/scenario/values.ts). Property tests use a
// fixed seed; replay a failure with IOMMU_LENS_FUZZ_SEED=<seed> (fast-check prints the seed and path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BadValue, parseLiteral, parseValueExpr, resolveExpr, resolveRef } from '../../simulator/scenario/values';
import { ScenarioError, type RefExpr } from '../../simulator/scenario/types';

const SEED = Number(process.env.IOMMU_LENS_FUZZ_SEED ?? 20240611);
const MAX = 2n ** 53n - 1n;
const POS = { file: 'v.yaml', line: 7, col: 9 };

function ok(v: number | BadValue): number {
  if (v instanceof BadValue) assert.fail(v.message);
  return v;
}

function bad(v: number | BadValue): string {
  assert.ok(v instanceof BadValue, `expected an error, got ${String(v)}`);
  return v.message;
}

test('every exact integer below 2^53 reads back exactly as decimal, hex and size', () => {
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: MAX }), fc.constantFrom('K', 'M', 'G', 'KiB', 'MiB', 'k'), (n, suffix) => {
    assert.equal(ok(parseLiteral(n.toString())), Number(n));
    assert.equal(ok(parseLiteral('0x' + n.toString(16))), Number(n));
    assert.equal(ok(parseLiteral('0X' + n.toString(16).toUpperCase())), Number(n));
    const unit = { K: 1024n, k: 1024n, KiB: 1024n, M: 2n ** 20n, MiB: 2n ** 20n, G: 2n ** 30n }[suffix]!;
    const whole = n / unit;
    assert.equal(ok(parseLiteral(`${whole}${suffix}`)), Number(whole * unit));
  }), { seed: SEED, numRuns: 500 });
});

test('2^53 and above is refused, never rounded, however it is written', () => {
  fc.assert(fc.property(fc.bigInt({ min: MAX + 1n, max: 2n ** 80n }), n => {
    assert.match(bad(parseLiteral(n.toString())), /cannot be represented exactly \(limit 2\^53-1\)/);
    assert.match(bad(parseLiteral('0x' + n.toString(16))), /cannot be represented exactly/);
    assert.match(bad(parseLiteral(`${n / 1024n + 1n}K`)), /cannot be represented exactly/);
  }), { seed: SEED, numRuns: 300 });
  assert.equal(ok(parseLiteral('0x00000000001fffffffffffff')), 2 ** 53 - 1);
});

test('a decimal fraction with a suffix is accepted exactly when it is a whole number of bytes', () => {
  fc.assert(fc.property(fc.nat(1_000_000), fc.integer({ min: 1, max: 4 }), fc.nat(9999), (whole, digits, frac) => {
    const fracText = String(frac % 10 ** digits).padStart(digits, '0');
    const text = `${whole}.${fracText}K`;
    const bytesTimesScale = (BigInt(whole) * 10n ** BigInt(digits) + BigInt(fracText)) * 1024n;
    const scale = 10n ** BigInt(digits);
    const got = parseLiteral(text);
    if (bytesTimesScale % scale === 0n) assert.equal(ok(got), Number(bytesTimesScale / scale));
    else assert.match(bad(got), /is not a whole number of bytes/);
  }), { seed: SEED, numRuns: 500 });
});

test('literal options: negatives only when signed, suffixes only for sizes', () => {
  assert.match(bad(parseLiteral('-1')), /negative value -1 is not allowed here/);
  assert.equal(ok(parseLiteral('-0x10', { suffix: false, negative: true })), -16);
  assert.match(bad(parseLiteral('4K', { suffix: false })), /expected an integer, got '4K'/);
  assert.match(bad(parseLiteral('1.5', { suffix: false })), /expected an integer/);
  assert.match(bad(parseLiteral('16 K')), /write 16K or 16KiB/);
  assert.match(bad(parseLiteral('')), /got nothing/);
  assert.equal(ok(parseLiteral('+4096')), 4096);
  assert.equal(ok(parseLiteral('1P')), 2 ** 50);
});

test('parseValueExpr reads a literal or a reference expression and throws at the given position', () => {
  assert.equal(parseValueExpr('16K', POS), 16384);
  const e = parseValueExpr('$buf.paddr + 0x10', POS) as RefExpr;
  assert.deepEqual(e, { kind: 'expr', text: '$buf.paddr + 0x10', pos: POS, terms: [{ sign: 1, ref: { name: 'buf', path: ['paddr'] } }, { sign: 1, value: 16 }] });
  assert.throws(() => parseValueExpr('$', POS), (err: unknown) => err instanceof ScenarioError
    && err.format() === "v.yaml:7:9: error: bad reference '$': expected a name after '$' (write $name, $name.field or $name.list[N], joined with + or -)");
  assert.throws(() => parseValueExpr('$a * 2', POS), /unexpected '\*'/);
});

const bindings: Record<string, unknown> = {
  buf: { paddr: 0x1000, size: 4096 },
  sg: { nents: 2, entries: [{ dma: 0x8000, len: 4096 }, { dma: 0x2000, len: 512 }] },
  coh: { cpu: null, dma: null, paddr: null },
  h: 5,
  err: '-ENOMEM',
  top: 2 ** 53 - 1,
};
const lookup = (name: string) => bindings[name];
const expr = (text: string) => parseValueExpr(text, POS) as RefExpr;

function resolveError(text: string, opts?: { signed?: boolean }): string {
  try {
    resolveExpr(expr(text), lookup, opts);
  } catch (e) {
    if (e instanceof ScenarioError) return e.format();
    throw e;
  }
  return assert.fail(`expected ${text} to fail`);
}

test('resolveExpr evaluates fields, indexes and arithmetic', () => {
  assert.equal(resolveExpr(expr('$buf.paddr + 16K - 4K'), lookup), 0x1000 + 12 * 1024);
  assert.equal(resolveExpr(expr('$sg.entries[1].dma+0x10'), lookup), 0x2010);
  assert.equal(resolveExpr(expr('$h'), lookup), 5);
  assert.equal(resolveExpr(expr('$h - 16'), lookup, { signed: true }), -11);
  assert.deepEqual(resolveRef(expr('$sg.entries[0]'), { name: 'sg', path: ['entries', 0] }, lookup), { dma: 0x8000, len: 4096 });
});

test('resolveExpr names what is wrong, at the expression position', () => {
  assert.equal(resolveError('$buf.dma'), "v.yaml:7:9: error: '$buf' has no field 'dma' (fields: paddr, size)");
  assert.equal(resolveError('$buf.pdadr'), "v.yaml:7:9: error: '$buf' has no field 'pdadr'; did you mean 'paddr'? (fields: paddr, size)");
  assert.equal(resolveError('$coh.dma + 4K'), "v.yaml:7:9: error: '$coh.dma' is null, not a number (did the step that set it fail?)");
  assert.equal(resolveError('$nothing'), "v.yaml:7:9: error: '$nothing' has no value (the step that set it returned nothing)");
  assert.equal(resolveError('$buf'), "v.yaml:7:9: error: '$buf' is an object, not a number; name one of its fields: paddr, size");
  assert.equal(resolveError('$err'), "v.yaml:7:9: error: '$err' is '-ENOMEM', not a number");
  assert.equal(resolveError('$sg.entries[2].dma'), "v.yaml:7:9: error: '$sg.entries[2]' is out of range: '$sg.entries' has 2 entries");
  assert.equal(resolveError('$h.dma'), "v.yaml:7:9: error: '$h' is 5; it has no field 'dma'");
  assert.equal(resolveError('$h - 16'), "v.yaml:7:9: error: '$h - 16' evaluates to -11, which is negative");
  assert.equal(resolveError('$top + 1'), "v.yaml:7:9: error: '$top + 1' cannot be represented exactly (limit 2^53-1)");
});
