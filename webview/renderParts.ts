// Pieces of the map painter that do not depend on mappings: fill patterns, rulers, grids, gutter labels.
import { addrToX, bytesPerPixel, ticks, type BandGeometry, type Row, type Viewport } from './layout';
import { hex } from './format';
import { withAlpha, type Theme } from './theme';

export interface Patterns {
  exposure: CanvasPattern | string;
  reserved: CanvasPattern | string;
  stale: CanvasPattern | string;
}

function stripes(color: string, size: number, width: number, cross: boolean): CanvasPattern | string {
  const c = document.createElement('canvas');
  c.width = size;
  c.height = size;
  const g = c.getContext('2d');
  if (!g) return color;
  g.strokeStyle = color;
  g.lineWidth = width;
  g.beginPath();
  // Diagonals drawn three times so the tile joins seamlessly at its edges.
  for (const o of [-size, 0, size]) {
    g.moveTo(o, size);
    g.lineTo(o + size, 0);
    if (cross) {
      g.moveTo(o, 0);
      g.lineTo(o + size, size);
    }
  }
  g.stroke();
  const p = g.createPattern(c, 'repeat');
  return p ?? color;
}

export function makePatterns(t: Theme): Patterns {
  return {
    exposure: stripes(t.exposure, 7, 2.2, false),
    reserved: stripes(withAlpha(t.reserved, 0.5), 8, 1, true),
    stale: stripes(withAlpha(t.stale, 0.8), 6, 1.5, false),
  };
}

export function setFont(ctx: CanvasRenderingContext2D, t: Theme, px: number, mono: boolean, bold = false): void {
  ctx.font = `${bold ? '600 ' : ''}${px}px ${mono ? t.monoFont : t.font}`;
}

/** Hex address ruler on power-of-two ticks; `below` puts labels under the tick marks. */
export function drawRuler(ctx: CanvasRenderingContext2D, t: Theme, g: BandGeometry, row: Row, v: Viewport, below: boolean): void {
  setFont(ctx, t, 10, true);
  const longest = ctx.measureText(hex(Math.floor(v.start + v.span))).width;
  const { step, ticks: list } = ticks(v, longest + 18);
  const minor = ticks(v, 8);
  const x0 = g.gutter;
  ctx.strokeStyle = t.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  const edge = below ? row.y : row.y + row.h;
  const dir = below ? 1 : -1;
  if (minor.step < step) {
    for (const tk of minor.ticks) {
      ctx.moveTo(x0 + Math.round(tk.x) + 0.5, edge);
      ctx.lineTo(x0 + Math.round(tk.x) + 0.5, edge + dir * 3);
    }
  }
  ctx.stroke();
  ctx.strokeStyle = t.muted;
  ctx.beginPath();
  for (const tk of list) {
    ctx.moveTo(x0 + Math.round(tk.x) + 0.5, edge);
    ctx.lineTo(x0 + Math.round(tk.x) + 0.5, edge + dir * 6);
  }
  ctx.stroke();
  ctx.fillStyle = t.muted;
  ctx.textBaseline = below ? 'top' : 'bottom';
  ctx.textAlign = 'center';
  let lastRight = -Infinity;
  for (const tk of list) {
    const label = hex(tk.addr);
    const w = ctx.measureText(label).width;
    const cx = Math.min(Math.max(tk.x, w / 2 + 2), v.width - w / 2 - 2);
    // a label pushed off its tick at either end must not run into its neighbour
    if (cx - w / 2 < lastRight + 14) continue;
    ctx.fillText(label, x0 + cx, below ? edge + 7 : edge - 7);
    lastRight = cx + w / 2;
  }
  ctx.textAlign = 'left';
}

/** Vertical lines every `unit` bytes when they are at least minPx apart. Returns whether it drew. */
export function drawGrid(ctx: CanvasRenderingContext2D, g: BandGeometry, row: Row, v: Viewport, unit: number, color: string,
                         minPx: number, tickOnly = 0): boolean {
  if (unit <= 0 || unit / bytesPerPixel(v) < minPx) return false;
  ctx.strokeStyle = color;
  ctx.lineWidth = 1;
  ctx.beginPath();
  const end = v.start + v.span;
  for (let a = Math.ceil(v.start / unit) * unit, n = 0; a <= end && n < 2000; a += unit, n++) {
    const x = g.gutter + Math.round(addrToX(v, a)) + 0.5;
    if (tickOnly > 0) {
      // Short marks on the bottom edge: CPU pages inside a granule, without striping the blocks.
      ctx.moveTo(x, row.y + row.h - tickOnly);
      ctx.lineTo(x, row.y + row.h);
      continue;
    }
    ctx.moveTo(x, row.y);
    ctx.lineTo(x, row.y + row.h);
  }
  ctx.stroke();
  return true;
}

/** Shades [lo, hi) of a band (outside the aperture or outside DRAM). */
export function shadeRange(ctx: CanvasRenderingContext2D, g: BandGeometry, row: Row, v: Viewport, lo: number, hi: number,
                           fill: string | CanvasPattern): void {
  const a = Math.max(addrToX(v, lo), -2);
  const b = Math.min(addrToX(v, hi), v.width + 2);
  if (b <= a) return;
  ctx.fillStyle = fill;
  ctx.fillRect(g.gutter + a, row.y, b - a, row.h);
}

export function drawGutter(ctx: CanvasRenderingContext2D, t: Theme, g: BandGeometry, labels: Array<[Row, string, string]>): void {
  ctx.fillStyle = t.background;
  ctx.fillRect(0, 0, g.gutter, g.height);
  ctx.strokeStyle = t.border;
  ctx.beginPath();
  ctx.moveTo(g.gutter - 0.5, 0);
  ctx.lineTo(g.gutter - 0.5, g.height);
  ctx.stroke();
  ctx.textBaseline = 'middle';
  for (const [row, main, sub] of labels) {
    const mid = row.y + row.h / 2;
    setFont(ctx, t, 11, false, true);
    ctx.fillStyle = t.foreground;
    ctx.fillText(main, 8, sub ? mid - 7 : mid, g.gutter - 12);
    if (sub) {
      setFont(ctx, t, 10, false);
      ctx.fillStyle = t.muted;
      ctx.fillText(sub, 8, mid + 7, g.gutter - 12);
    }
  }
}

/** Text clipped to a box, centred vertically at y; skipped when the box is too narrow for one glyph. */
export function boxText(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, maxW: number): void {
  if (maxW < 14) return;
  let s = text;
  if (ctx.measureText(s).width > maxW) {
    while (s.length > 1 && ctx.measureText(s + '…').width > maxW) s = s.slice(0, -1);
    s += '…';
  }
  ctx.fillText(s, x, y);
}

/** Downward triangle marker with an optional count. */
export function triangle(ctx: CanvasRenderingContext2D, x: number, top: number, size: number): void {
  ctx.beginPath();
  ctx.moveTo(x - size, top);
  ctx.lineTo(x + size, top);
  ctx.lineTo(x, top + size * 1.5);
  ctx.closePath();
  ctx.fill();
}

export function diamond(ctx: CanvasRenderingContext2D, x: number, cy: number, r: number): void {
  ctx.beginPath();
  ctx.moveTo(x, cy - r);
  ctx.lineTo(x + r, cy);
  ctx.lineTo(x, cy + r);
  ctx.lineTo(x - r, cy);
  ctx.closePath();
  ctx.fill();
}
