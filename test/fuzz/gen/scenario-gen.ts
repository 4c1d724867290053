// Structure-aware scenario generator. It reads the op schemas, presets and models the simulator registers, so
// new ops are fuzzed as soon as they exist. Values come from pools that make runs go deep (references to what
// earlier steps bound, sizes and addresses near page and block boundaries) mixed with what breaks loaders
// (wrong types, missing keys, huge and negative numbers, dangling and self references, unicode).
import fc from 'fast-check';
import '../../../simulator/simulator-all';
import { allOpNames, getOpSchema, type ArgField, type ArgType } from '../../../simulator/scenario/opspec';
import { getModelParams, modelNames, presetNames } from '../../../simulator/platform/registry';
import { loadScenario } from '../../../simulator/scenario/loader';
import { Doc, map, plain, seq, str } from './yaml-render';

export interface PlatformInfo { doc: Doc; devices: string[]; iommus: string[] }

/** Device and IOMMU names of every preset, read by loading it. */
const PRESETS: Array<{ name: string; devices: string[]; iommus: string[] }> = presetNames().map(name => {
  const s = loadScenario(`platform: ${name}\nsteps: []\n`, 'preset-probe.iommu.yaml');
  return { name, devices: s.platform.devices.map(d => d.name), iommus: s.platform.iommus.map(i => i.name) };
});
export const OPS = allOpNames();

const UNICODE = ['é', 'ü', 'Ω', '中', '😀', '\u200b', '\u202e', 'e\u0301', '\ufeff', '\u00a0'];
const SIZES = ['0', '1', '8', '63', '64', '4095', '4096', '4097', '4K', '8K', '12K', '16K', '32K', '64K', '2M', '4M', '32M', '1G', '2G',
  '0x1000', '0x4000', '0x3fff', '1.5K', '0x200000', '1T'];
const HUGE = ['1P', '9007199254740991', '9007199254740992', '18446744073709551615', '0xffffffffffffffff', '0x1fffffffffffff', '-1', '-4096',
  '1e3', '0.3K', '16KB', '16 K', 'NaN', 'Infinity', '0x', '--1', '4096.5', '1K1', ''];
const IOVAS = ['0', '0x1000', '0x4000', '0x40000000', '0xffffc000', '0xfffff000', '0x100000000', '0x7ffffffff000', '0x800000000000'];
const PADDRS = ['0x80000000', '0x80001000', '0x800000000', '0x800004000', '0x10000000000', '0'];
const BIND_PREFIX: Record<string, string> = {
  probe: 'd', iommu_domain_alloc: 'd', iommu_get_domain_for_dev: 'd', kmalloc: 'b', alloc_pages: 'b', dma_alloc_coherent: 'c',
  dma_map_single: 'h', dma_map_page: 'h', dma_map_sg: 's', dma_alloc_noncontiguous: 's', init_iova_domain: 'v', alloc_iova: 'p',
  alloc_iova_fast: 'p', 'apu.gem_new': 'g', 'apu.gem_queue': 'q',
};
const bindName = (op: string, i: number) => `${BIND_PREFIX[op] ?? 'x'}${i % 3}`;

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const junk: fc.Arbitrary<Doc> = fc.oneof(
  pick(['[]', '{}', 'null', '~', 'true', 'yes', 'x', '$', '$$', '$.x', '$nope', '$nope.paddr', '"', "'", '-', ':']).map(plain),
  fc.string({ maxLength: 12 }).map(str),
  fc.constantFrom(...UNICODE).map(u => str(`dev${u}`)),
  fc.constant(seq([plain('1'), plain('2')])),
  fc.constant(map([['a', plain('1')]])),
);

/** A reference to something an earlier step may have bound (or not: dangling and self references). */
function ref(prefix: string, fields: string[], arithmetic = true): fc.Arbitrary<Doc> {
  return fc.tuple(fc.nat(2), pick(['', ...fields]), pick(arithmetic ? ['', '', ' + 0x1000', ' - 0x1000', ' + 4K', ' + 1'] : ['']))
    .map(([i, f, arith]) => plain(`$${prefix}${i}${f}${arith}`));
}

function u64For(key: string, strict: boolean): fc.Arbitrary<Doc> {
  const refs: Record<string, fc.Arbitrary<Doc>> = {
    paddr: ref('b', ['.paddr']), cpu: ref('c', ['.cpu']), dma: fc.oneof(ref('h', ['']), ref('c', ['.dma']), ref('s', ['.entries[0].dma', '.dma'])),
    pfn: ref('p', ['']), iova: pick(IOVAS).map(plain), addr: fc.oneof(ref('h', ['']), pick(IOVAS).map(plain)),
  };
  return fc.oneof(
    { weight: 6, arbitrary: refs[key] ?? pick(SIZES).map(plain) },
    { weight: 4, arbitrary: pick(key === 'paddr' ? PADDRS : SIZES).map(plain) },
    { weight: strict ? 0 : 1, arbitrary: pick(HUGE).map(plain) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(b => plain(`0x${b.toString(16)}`)) },
  );
}

/** `strict`: values the loader accepts (the run fuzzer wants steps that execute); otherwise junk is mixed in. */
interface Gen { info: PlatformInfo; strict: boolean }

function valueFor(key: string, f: ArgField, g: Gen, depth: number): fc.Arbitrary<Doc> {
  return typeValue(key, f.type, g, depth);
}

function typeValue(key: string, t: ArgType, g: Gen, depth: number): fc.Arbitrary<Doc> {
  const info = g.info;
  const withJunk = (a: fc.Arbitrary<Doc>) => g.strict ? a : fc.oneof({ weight: 15, arbitrary: a }, { weight: 1, arbitrary: junk });
  if (t === 'u64') return withJunk(u64For(key, g.strict));
  if (t === 'int') {
    const pools: Record<string, string[]> = {
      bits: ['24', '32', '36', '40', '48', '64'], order: ['0', '1', '2', '3', '4', '9', '10'], pasid: ['0', '1', '2', '5'],
      min_pasid: ['1'], max_pasid: ['3', '16', '1048575'], count: ['1', '2', '3', '2147483648', '4294967295'], job: ['1', '2'],
    };
    const wild = ['0', '1', '2', '3', '9', '10', '20', '32', '64', '-1', '65', '2147483648', '9007199254740993', '0x10'];
    return withJunk(pick(g.strict ? pools[key] ?? ['0', '1', '2', '3'] : [...(pools[key] ?? []), ...wild]).map(plain));
  }
  if (t === 'bool') return withJunk(pick(['true', 'false']).map(plain));
  if (t === 'string' || t === 'name') {
    const names = key === 'iommu' ? info.iommus : key === 'mm' ? ['proc1', 'proc2'] : g.strict ? info.devices : [...info.devices, 'proc1'];
    return withJunk(names.length ? pick(names).map(str) : fc.constant(str('none')));
  }
  if (t === 'handle') {
    const prefix = key === 'iovad' ? 'v' : key === 'sg' || key === 'sgt' ? 's' : key === 'domain' ? 'd' : 'g';
    const literal = pick(['d1', 'd2', 'd3', 'iovad1', 'sgt1']).map(str);
    return withJunk(fc.oneof({ weight: 6, arbitrary: ref(prefix, [''], false) }, { weight: g.strict ? 0 : 1, arbitrary: literal }));
  }
  if ('enum' in t) return withJunk(fc.oneof({ weight: 8, arbitrary: pick(t.enum).map(plain) }, { weight: g.strict ? 0 : 1, arbitrary: pick(t.enum).map(e => plain(e + 'x')) }));
  if ('list' in t) {
    if (depth > 3) return fc.constant(seq([]));
    const big = key === 'sg' ? fc.integer({ min: 100, max: 3000 }).map(n => seq(Array.from({ length: n }, (_, i) =>
      map([['paddr', plain(`0x${(0x80000000 + i * 0x2000).toString(16)}`)], ['len', plain('4K')]])))) : fc.constant(seq([]));
    return fc.oneof({ weight: 20, arbitrary: fc.array(typeValue(key, t.list, g, depth + 1), { maxLength: 4 }).map(seq) }, { weight: 1, arbitrary: big });
  }
  if ('object' in t) return objectValue(t.object, g, depth + 1);
  return fc.oneof(...t.oneOf.map(x => typeValue(key, x, g, depth + 1)));
}

/** An argument object: every field usually present, sometimes one missing, sometimes an unknown one. */
function objectValue(fields: Record<string, ArgField>, g: Gen, depth: number): fc.Arbitrary<Doc> {
  const keys = Object.keys(fields);
  return fc.tuple(
    fc.tuple(...keys.map(k => fc.tuple(fc.constant(k), valueFor(k, fields[k], g, depth), fc.nat(19)))),
    fc.nat(39),
  ).map(([vals, extra]) => {
    const entries: Array<[string, Doc]> = [];
    for (const [k, v, r] of vals) {
      // a missing required key now and then (not in strict mode); optional keys a quarter of the time
      const drop = fields[k].required ? r === 0 && !g.strict : r < 5;
      if (!drop) entries.push([k, v]);
    }
    if (g.strict) return map(entries);
    if (extra === 0) entries.push(['sizee', plain('4K')]);
    if (extra === 1 && entries.length) entries.push([entries[0][0], entries[0][1]]);   // duplicate key
    return map(entries);
  });
}

/** One step `{OP: ARGS, as?, site?, expect?}`. */
function step(g: Gen, index: fc.Arbitrary<number>): fc.Arbitrary<Doc> {
  const badOps = pick(['iommu_mapp', 'kmaloc', 'dma_map', '', 'apu.nope']);
  const coreOps = OPS.filter(o => !o.includes('.'));
  const driverOps = OPS.filter(o => o.includes('.'));
  return fc.tuple(fc.oneof({ weight: 30, arbitrary: pick(coreOps) }, { weight: 6, arbitrary: pick(driverOps) },
    { weight: g.strict ? 0 : 1, arbitrary: badOps }),
    index, fc.nat(9), fc.nat(19), fc.nat(29)).chain(([op, i, asRoll, siteRoll, expectRoll]) => {
    const schema = getOpSchema(op);
    const args = !schema ? fc.constant(map([])) : 'scalar' in schema.args ? valueFor('', schema.args.scalar, g, 0)
      : objectValue(schema.args.object, g, 0);
    return args.map(a => {
      const entries: Array<[string, Doc]> = [[op, a]];
      if (asRoll < 7) entries.push(['as', plain(asRoll === 6 && !g.strict ? 'a b' : bindName(op, i))]);
      if (siteRoll === 0) entries.push(['site', str(`drv${g.strict ? '' : UNICODE[i % UNICODE.length]}.c:probe_fn`)]);
      if (siteRoll === 1 && !g.strict) entries.push(['site', plain('drv.c')]);
      if (expectRoll === 0) entries.push(['expect', map([['result', plain('ok')]])]);
      if (expectRoll === 1) entries.push(['expect', map([['finding', plain('exposure')], ['faults', plain('1')]])]);
      if (expectRoll === 2 && !g.strict) entries.push(['expect', map([['result', plain('-EBOGUS')]])]);
      return map(entries);
    });
  });
}

/**
 * Strict mode: a reference to a name no earlier step bound is redirected to one that was (same kind), or the
 * step is dropped, so the loader's static reference check lets the run start.
 */
function bindEarlier(steps: Doc[]): Doc[] {
  const bound = new Set<string>();
  const out: Doc[] = [];
  const fix = (d: Doc): Doc | null => {
    if (d.k === 'plain' || d.k === 'str' || d.k === 'raw') {
      const m = /^\$([a-z]+)(\d)(.*)$/.exec(d.text);
      if (!m || bound.has(m[1] + m[2])) return d;
      const alt = [...bound].find(n => n.startsWith(m[1]));
      return alt ? { ...d, text: `$${alt}${m[3]}` } : null;
    }
    if (d.k === 'seq') {
      const items = d.items.map(fix);
      return items.includes(null) ? null : seq(items as Doc[]);
    }
    const entries = d.entries.map(([k, v]) => [k, fix(v)] as [string, Doc | null]);
    return entries.some(e => e[1] === null) ? null : map(entries as Array<[string, Doc]>);
  };
  for (const s of steps) {
    const fixed = fix(s);
    if (!fixed || fixed.k !== 'map') continue;
    out.push(fixed);
    const as = fixed.entries.find(e => e[0] === 'as')?.[1];
    if (as && as.k === 'plain') bound.add(as.text);
  }
  return out;
}

/** A preset (most of the time) or an inline platform with odd memory and model parameters. */
const platformArb = (strict: boolean): fc.Arbitrary<PlatformInfo> => fc.oneof(
  { weight: 5, arbitrary: pick(PRESETS).map(p => ({ doc: plain(p.name), devices: p.devices, iommus: p.iommus })) },
  {
    weight: 2,
    arbitrary: fc.tuple(pick(modelNames()), pick(strict ? ['0x80000000', '0x800000000', '0x80010000'] : ['0x80000000', '0x800000000', '0', '0x123', '0x80001000']),
      pick(strict ? ['1G', '4G', '16M'] : ['1G', '4G', '16M', '64K', '0', '1P', '4097']), fc.nat(strict ? 0 : 5), fc.nat(3)).map(([model, base, size, roll0, nDev]) => {
      const roll = strict ? 5 : roll0;
      const params = getModelParams(model)?.params ?? {};
      const extra: Array<[string, Doc]> = [];
      if ('pgsize_bitmap' in params) extra.push(['pgsize_bitmap', roll === 0 ? seq([plain('4K'), plain('3K')]) : roll === 1 ? seq([]) : seq([plain('4K'), plain('2M')])]);
      if ('ias' in params && roll === 2) extra.push(['ias', plain('64')]);
      if (roll === 3 && 'iotlb_entries' in params) extra.push(['iotlb_entries', plain('0')]);
      if ('page_size' in params && roll === 4) extra.push(['page_size', plain('4K')]);
      const devices = Array.from({ length: nDev + 1 }, (_, i) => `dev${i}`);
      return {
        doc: map([
          ['memory', map([['base', plain(base)], ['size', plain(size)]])],
          ['iommus', seq([map([['name', plain('io0')], ['model', plain(model)], ...extra])])],
          ['devices', seq(devices.map((d, i) => map([['name', plain(d)], ['iommu', plain(i === 3 && !strict ? 'nope' : 'io0')], ['streams', seq([plain(String(i))])],
            ...(i === 1 ? [['bus', plain('pci')] as [string, Doc]] : []), ...(i === 2 ? [['untrusted', plain('true')] as [string, Doc]] : [])])))],
        ]),
        devices, iommus: ['io0'],
      };
    }),
  },
);

const kernelArb = (strict: boolean): fc.Arbitrary<Doc | null> => fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  {
    weight: 4,
    arbitrary: fc.tuple(pick(strict ? ['4K', '16K', '64K', '4096'] : ['4K', '16K', '64K', '8K', '4096']), fc.boolean(), fc.boolean(), pick(['', '4.19', '6.12']), fc.nat(3)).map(([ps, lp, strict, ver, opt]) => {
      const e: Array<[string, Doc]> = [['page_size', plain(ps)], ['large_iommu_pages', plain(lp)], ['dma_strict', plain(strict)]];
      if (ver) e.push(['version', str(ver)]);
      if (opt === 0) e.push(['options', map([['flush_queue_size', plain('2')], ['flush_queue_timeout', plain('1')]])]);
      if (opt === 1) e.push(['options', map([['swiotlb_v2_misaligned_slot', plain('true')]])]);
      return map(e);
    }),
  },
);

/**
 * A whole scenario document and the names its platform offers. `strict`: aimed at running (every reference
 * bound earlier, values the loader accepts); otherwise aimed at the loader's error paths too.
 */
export function scenarioArbFor(strict: boolean): fc.Arbitrary<{ doc: Doc; info: PlatformInfo }> {
  return fc.tuple(platformArb(strict), kernelArb(strict)).chain(([info, kernel]) => {
    const g: Gen = { info, strict };
    const probes = fc.array(pick(info.devices.length ? info.devices : ['none']), { maxLength: 3 })
      .map(ds => ds.map((d, i) => map([['probe', str(d)], ['as', plain(`d${i}`)]])));
    const setup = fc.subarray(prelude(info), { minLength: 0 });
    return fc.tuple(probes, setup, fc.array(step(g, fc.nat(8)), { maxLength: 22 }), fc.nat(15)).map(([probed, pre, steps, shape]) => {
      const p = strict ? [...probed, ...pre] : probed;
      const top: Array<[string, Doc]> = [['name', str(`fuzz ${UNICODE[shape % UNICODE.length]}`)], ['platform', info.doc]];
      if (kernel) top.push(['kernel', kernel]);
      if (shape === 0) top.push(['devices', seq([map([['name', plain('extra')], ['iommu', plain(info.iommus[0] ?? 'none')]])])]);
      top.push(['steps', seq(strict ? bindEarlier([...p, ...steps]) : [...p, ...steps])]);
      if (!strict && shape === 1) top.splice(1, 1);           // no platform
      if (!strict && shape === 2) top.push(['stepz', seq([])]); // misspelt key
      return { doc: map(top), info };
    });
  });
}

/** Steps that give later steps something to refer to: buffers, an IOVA domain, a domain, a mapping. */
function prelude(info: PlatformInfo): Doc[] {
  const dev = str(info.devices[0] ?? 'none');
  return [
    map([['kmalloc', map([['size', plain('8K')]])], ['as', plain('b0')]]),
    map([['alloc_pages', map([['order', plain('2')]])], ['as', plain('b1')]]),
    map([['init_iova_domain', map([['granule', plain('4K')], ['start_pfn', plain('1')], ['rcache', plain('true')]])], ['as', plain('v0')]]),
    map([['iommu_domain_alloc', map([['dev', dev], ['type', plain('unmanaged')]])], ['as', plain('d2')]]),
    map([['dma_map_single', map([['dev', dev], ['paddr', plain('$b0.paddr')], ['size', plain('4K')], ['dir', plain('to_device')]])], ['as', plain('h0')]]),
    map([['dma_map_sg', map([['dev', dev], ['sg', seq([map([['paddr', plain('$b1.paddr')], ['len', plain('4K')]])])], ['dir', plain('bidirectional')]])], ['as', plain('s0')]]),
  ];
}

export const scenarioArb = scenarioArbFor(false);
export const runnableScenarioArb = scenarioArbFor(true);
