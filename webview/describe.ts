// Words for what the pointer is on: tooltip lines in the terms of the kernel (IOVA, PA, prot, exposure,
// IOTLB) and what a click does (reveal in the tree, open the driver source). Pure.
import type { Hit } from './hitTest';
import { FLAG_BOUNCE, FLAG_FAULTED, FLAG_STALE, bufferAt, stepInfo, stringAt, type MapModel } from './modelTypes';
import { bytesLabel, hex, hexAddr, hexDigitsFor } from './format';
import type { RevealTarget } from './protocol';

export interface Description {
  title: string;
  rows: Array<[string, string]>;
  /** extra emphasis lines: exposure, stale, fault */
  warnings: string[];
  hint: string | null;
}

export interface ClickAction {
  reveal: RevealTarget | null;
  site: string | null;
  /** address to walk the page table for */
  walk: number | null;
  /** pixel range of a summed column to zoom into */
  zoom: { band: 'iova' | 'phys'; x0: number; x1: number } | null;
}

const str = stringAt;

function range(a: number, size: number, digits: number): string {
  return `${hexAddr(a, digits)}–${hexAddr(a + size - 1, digits)}`;
}

function stepText(m: MapModel, step: number): string | null {
  if (step < 0) return null;
  const s = stepInfo(m, step);
  return s ? `step ${step} ${s.op}${s.site ? ` (${s.site})` : ''}` : `step ${step}`;
}

export function siteOf(m: MapModel, step: number): string | null {
  return stepInfo(m, step)?.site ?? null;
}

function describeMapping(m: MapModel, i: number): Description {
  const mp = m.mappings;
  const di = hexDigitsFor(m.domain ? m.domain.aperture.end : 2 ** 32);
  const dp = hexDigitsFor((m.memory ? m.memory.base + m.memory.size : 0) || mp.paddr[i] + mp.size[i]);
  const rows: Array<[string, string]> = [
    ['IOVA', `${range(mp.iova[i], mp.size[i], di)}`],
    ['PA', `${range(mp.paddr[i], mp.size[i], dp)}`],
    ['size', `${bytesLabel(mp.size[i])} (${hex(mp.size[i])})`],
    ['prot', str(m, mp.prot[i]) ?? '?'],
  ];
  const bufIdx = mp.buffer[i];
  if (bufIdx >= 0) {
    const b = bufferAt(m, bufIdx);
    rows.push(['buffer', `${b.id} · ${b.kind} ${bytesLabel(b.size)} at ${hex(b.paddr)}${b.freed ? ' (freed)' : ''}`]);
  }
  const dev = str(m, mp.device[i]);
  if (dev) rows.push(['device', dev]);
  const owner = str(m, mp.owner[i]);
  if (owner) rows.push(['owner', owner]);
  const step = stepText(m, mp.step[i]);
  if (step) rows.push(['step', step]);
  const warnings: string[] = [];
  if (mp.exposed[i] > 0) {
    const dma = mp.iova[i] + mp.reqOff[i];
    warnings.push(`exposed: ${bytesLabel(mp.exposed[i])} device-visible beyond the ${bytesLabel(mp.reqLen[i])} asked for ` +
      `(dma handle ${hex(dma)}; hatched)`);
  }
  if (mp.flags[i] & FLAG_STALE) warnings.push('stale: unmapped, but the IOTLB may still translate it until the flush queue runs');
  if (mp.flags[i] & FLAG_BOUNCE) warnings.push('bounced: the device sees a swiotlb slot, not the original buffer');
  if (mp.flags[i] & FLAG_FAULTED) warnings.push('a device access faulted inside this mapping');
  const site = siteOf(m, mp.step[i]);
  return { title: mp.flags[i] & FLAG_STALE ? 'stale IOTLB entry' : 'mapping', rows, warnings,
    hint: site ? 'click: reveal in tree, open source, walk the page table' : 'click: reveal in tree, walk the page table' };
}

/** What an address with no mapping means in a domain of this type. */
export function holeMeaning(type: string): { title: string; label: string; hint: string } {
  if (type === 'IDENTITY') {
    return { title: 'identity (bypass): IOVA = PA', label: 'identity, IOVA = PA:', hint: 'the device reaches this physical address directly' };
  }
  if (type === 'BLOCKED') {
    return { title: 'blocked', label: 'blocked, every access faults:', hint: 'every device access faults in a blocking domain' };
  }
  return { title: 'unmapped (hole)', label: 'unmapped', hint: 'a device access here is a translation fault' };
}

export function describe(m: MapModel, hit: Hit): Description {
  const di = hexDigitsFor(m.domain ? m.domain.aperture.end : 2 ** 32);
  switch (hit.kind) {
    case 'mapping':
      return describeMapping(m, hit.item);
    case 'bucket': {
      const b = hit.block;
      return { title: `${b.count.toLocaleString('en-US')} mappings in this column`,
        rows: [['bytes', `${bytesLabel(b.bytes)} visible`], ['largest', describeMapping(m, b.item).rows[0][1]]],
        warnings: [], hint: 'click or zoom in to see them one by one' };
    }
    case 'faults': {
      const f = m.faults[hit.first];
      const rows: Array<[string, string]> = [['IOVA', hexAddr(f.iova, di)], ['device', f.dev],
        ['kind', `${f.kind}${f.access ? ` ${f.access}` : ''}`]];
      const step = stepText(m, f.step);
      if (step) rows.push(['step', step]);
      return { title: hit.count > 1 ? `${hit.count} faults (first shown)` : 'IOMMU fault', rows, warnings: [f.message],
        hint: 'click: reveal in tree, open source' };
    }
    case 'buffer': {
      const b = bufferAt(m, hit.index);
      const rows: Array<[string, string]> = [['PA', range(b.paddr, b.size, 9)], ['kind', b.kind], ['size', bytesLabel(b.size)]];
      if (b.owner) rows.push(['owner', b.owner]);
      return { title: `${b.bounce ? 'swiotlb bounce slot' : 'CPU buffer'} ${b.id}`, rows,
        warnings: b.freed ? ['freed'] : [], hint: 'click: reveal in tree' };
    }
    case 'buffers':
      return { title: `${hit.block.count} CPU buffers in this column`, rows: [['bytes', bytesLabel(hit.block.bytes)]],
        warnings: [], hint: 'zoom in to see them one by one' };
    case 'reserved': {
      const r = m.reserved[hit.index];
      return { title: `reserved region: ${r.why}`, rows: [['IOVA', range(r.start, r.end - r.start, di)],
        ['size', bytesLabel(r.end - r.start)]], warnings: [], hint: 'the IOVA allocator never hands these out' };
    }
    case 'hole': {
      const rows: Array<[string, string]> = [['IOVA', range(hit.start, hit.end - hit.start, di)], ['size', bytesLabel(hit.end - hit.start)]];
      const gap = holeMeaning(m.domain?.type ?? '');
      return { title: gap.title, rows, warnings: [], hint: gap.hint };
    }
    case 'outside':
      return { title: hit.band === 'iova' ? 'outside the domain aperture' : 'outside DRAM',
        rows: [[hit.band === 'iova' ? 'IOVA' : 'PA', hex(Math.floor(hit.addr))]], warnings: [], hint: null };
    case 'physical':
      return { title: 'physical memory not mapped in this domain', rows: [['PA', hex(Math.floor(hit.addr))]],
        warnings: [], hint: null };
  }
}

export function clickAction(m: MapModel, hit: Hit): ClickAction {
  const domain = m.domain?.id ?? '';
  const none: ClickAction = { reveal: null, site: null, walk: null, zoom: null };
  switch (hit.kind) {
    case 'mapping': {
      const mp = m.mappings;
      const i = hit.item;
      const reveal: RevealTarget = { kind: 'mapping', domain, iova: hex(mp.iova[i]), paddr: hex(mp.paddr[i]), size: mp.size[i] };
      if (mp.step[i] >= 0) reveal.step = mp.step[i];
      const dev = str(m, mp.device[i]);
      if (dev) reveal.dev = dev;
      return { reveal, site: siteOf(m, mp.step[i]), walk: mp.iova[i] + mp.reqOff[i], zoom: null };
    }
    case 'bucket': {
      return { ...none, zoom: { band: hit.band, x0: hit.block.x0, x1: Math.max(hit.block.x1, hit.block.x0 + 1) } };
    }
    case 'faults': {
      const f = m.faults[hit.first];
      return { reveal: { kind: 'fault', domain, iova: hex(f.iova), step: f.step, dev: f.dev }, site: siteOf(m, f.step),
        walk: f.iova, zoom: null };
    }
    case 'buffer': {
      const b = bufferAt(m, hit.index);
      const reveal: RevealTarget = { kind: 'buffer', domain, id: b.id, paddr: hex(b.paddr), size: b.size };
      if (b.step >= 0) reveal.step = b.step;
      return { ...none, reveal, site: siteOf(m, b.step) };
    }
    case 'hole':
      return { ...none, walk: hit.start };
    default:
      return none;
  }
}
