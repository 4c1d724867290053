// Address <-> pixel arithmetic for one band of the map, zoom anchored at the cursor, pan, clamping, tick
// placement, and the vertical layout of the canvas. Pure: unit-tested without a browser.
//
// A viewport shows the addresses [start, start + span) across `width` CSS pixels. Addresses stay below
// 2^53 and differences of two of them are exact doubles, so zooming into one page of a 48-bit space works.

export interface Viewport {
  start: number;
  span: number;
  width: number;
}

/** What a viewport may show: [min, max) and the smallest span (the deepest zoom). */
export interface Limits {
  min: number;
  max: number;
  minSpan: number;
}

export function addrToX(v: Viewport, addr: number): number {
  return ((addr - v.start) * v.width) / v.span;
}

export function xToAddr(v: Viewport, x: number): number {
  return v.start + (x * v.span) / v.width;
}

export function bytesPerPixel(v: Viewport): number {
  return v.span / v.width;
}

/** Keeps the span within [minSpan, max - min] and the window inside [min, max). */
export function clampViewport(v: Viewport, lim: Limits): Viewport {
  const full = Math.max(lim.max - lim.min, 1);
  const span = Math.min(Math.max(v.span, Math.min(lim.minSpan, full)), full);
  const start = Math.min(Math.max(v.start, lim.min), lim.max - span);
  return { start, span, width: v.width };
}

/** The whole range. */
export function fitAll(width: number, lim: Limits): Viewport {
  return clampViewport({ start: lim.min, span: lim.max - lim.min, width }, lim);
}

/** Shows [lo, hi) with `pad` of its length free on each side (clamped). */
export function fitRange(lo: number, hi: number, width: number, lim: Limits, pad = 0.1): Viewport {
  const len = Math.max(hi - lo, lim.minSpan);
  const mid = lo + (hi - lo) / 2;
  const span = len * (1 + 2 * pad);
  return clampViewport({ start: mid - span / 2, span, width }, lim);
}

/**
 * Zooms by `factor` (> 1 zooms in) keeping the address under pixel x where it is, unless clamping at the
 * deepest zoom or at an edge of the range has to move it.
 */
export function zoomAt(v: Viewport, x: number, factor: number, lim: Limits): Viewport {
  const anchor = xToAddr(v, x);
  const full = Math.max(lim.max - lim.min, 1);
  const span = Math.min(Math.max(v.span / factor, Math.min(lim.minSpan, full)), full);
  return clampViewport({ start: anchor - (x * span) / v.width, span, width: v.width }, lim);
}

/** Moves the content by dx pixels (drag to the right shows lower addresses). */
export function panBy(v: Viewport, dx: number, lim: Limits): Viewport {
  return clampViewport({ start: v.start - dx * bytesPerPixel(v), span: v.span, width: v.width }, lim);
}

/** Same addresses on a new plot width (window resize keeps the view, not the scale). */
export function resize(v: Viewport, width: number, lim: Limits): Viewport {
  return clampViewport({ start: v.start, span: v.span, width }, lim);
}

export interface Tick {
  addr: number;
  x: number;
  /** on a boundary of 16 steps: drawn longer and labelled */
  major: boolean;
}

/**
 * Ticks on power-of-two boundaries (the addresses a kernel developer reads: 0x...4000, 0x...8000),
 * at least `minPx` pixels apart.
 */
export function ticks(v: Viewport, minPx: number): { step: number; ticks: Tick[] } {
  const want = bytesPerPixel(v) * minPx;
  let step = 1;
  while (step < want) step *= 2;
  const out: Tick[] = [];
  const first = Math.ceil(v.start / step) * step;
  const end = v.start + v.span;
  for (let a = first; a <= end && out.length < 4096; a += step) {
    out.push({ addr: a, x: addrToX(v, a), major: a % (step * 4) === 0 });
  }
  return { step, ticks: out };
}

/** Vertical rows of the canvas, top to bottom, in CSS pixels. */
export interface BandGeometry {
  gutter: number;        // left column with the row names
  iovaRuler: Row;
  markers: Row;          // faults and stale IOTLB entries above the IOVA band
  iova: Row;
  links: Row;
  phys: Row;
  buffers: Row;          // CPU buffers and bounce slots under the physical band
  physRuler: Row;
  height: number;
}

export interface Row {
  y: number;
  h: number;
}

export function bandGeometry(height: number, gutter = 78): BandGeometry {
  const ruler = 20;
  const markers = 22;
  const bufferRow = 22;
  const free = Math.max(height - 2 * ruler - markers - bufferRow, 120);
  const iova = Math.round(free * 0.36);
  const links = Math.round(free * 0.32);
  const phys = free - iova - links;
  let y = 0;
  const row = (h: number): Row => { const r = { y, h }; y += h; return r; };
  const g = { gutter, iovaRuler: row(ruler), markers: row(markers), iova: row(iova), links: row(links), phys: row(phys),
    buffers: row(bufferRow), physRuler: row(ruler), height: 0 };
  g.height = y;
  return g;
}

export type RowName = 'iovaRuler' | 'markers' | 'iova' | 'links' | 'phys' | 'buffers' | 'physRuler';

export function rowAt(g: BandGeometry, y: number): RowName | null {
  for (const name of ['iovaRuler', 'markers', 'iova', 'links', 'phys', 'buffers', 'physRuler'] as const) {
    const r = g[name];
    if (y >= r.y && y < r.y + r.h) return name;
  }
  return null;
}
