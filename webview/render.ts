// Paints a Scene on a 2D canvas: IOVA band on top, physical memory below, links between them, markers
// for faults, stale IOTLB entries and exposure, CPU buffers and bounce slots under the physical band.
import type { Block } from './lod';
import { addrToX, bytesPerPixel, type BandGeometry, type Row, type Viewport } from './layout';
import { BUF_BOUNCE, BUF_FREED, FLAG_BOUNCE, FLAG_EXPOSED, FLAG_FAULTED, FLAG_STALE, bufferAt, stringAt, type MapModel } from './modelTypes';
import type { ModelIndex, Scene } from './scene';
import { holeAt, visibleReserved } from './scene';
import type { Hit } from './hitTest';
import { bytesLabel } from './format';
import { holeMeaning } from './describe';
import {
  boxText, diamond, drawGrid, drawGutter, drawRuler, setFont, shadeRange, triangle, type Patterns,
} from './renderParts';
import { textOn, withAlpha, type Theme } from './theme';

export type ColorBy = 'buffer' | 'device';

export interface PaintInput {
  ctx: CanvasRenderingContext2D;
  g: BandGeometry;
  theme: Theme;
  patterns: Patterns;
  m: MapModel;
  idx: ModelIndex;
  scene: Scene;
  colorBy: ColorBy;
  hover: Hit | null;
  follow: boolean;
  /** IOVA of the page-table walk shown in the panel */
  walkIova: number | null;
}

/** Palette slot of a mapping: its buffer (or owner when no buffer is known), or its device. */
export function colorSlot(m: MapModel, item: number, colorBy: ColorBy): number {
  const mp = m.mappings;
  if (colorBy === 'device') return mp.device[item];
  if (mp.buffer[item] >= 0) return mp.buffer[item];
  return mp.owner[item] >= 0 ? m.buffers.id.length + mp.owner[item] : -1;
}

function colorOf(p: PaintInput, item: number): string {
  const slot = colorSlot(p.m, item, p.colorBy);
  return slot < 0 ? withAlpha(p.theme.muted, 0.7) : p.theme.palette[slot % p.theme.palette.length];
}

/** Fills [lo, hi) of one block's row; clipped to the plot. */
function fillSpan(ctx: CanvasRenderingContext2D, g: BandGeometry, v: Viewport, lo: number, hi: number, y: number, h: number): void {
  const a = Math.max(addrToX(v, lo), 0);
  const b = Math.min(addrToX(v, hi), v.width);
  if (b - a > 0) ctx.fillRect(g.gutter + a, y, Math.max(b - a, 1), h);
}

/** Hatches the bytes of mapping i outside the requested window; `base` is iova or paddr. */
function hatchExposure(p: PaintInput, v: Viewport, row: Row, i: number, base: number): void {
  const mp = p.m.mappings;
  const lo = base + mp.reqOff[i];
  const hi = lo + mp.reqLen[i];
  const end = base + mp.size[i];
  const { ctx, g } = p;
  ctx.fillStyle = p.patterns.exposure;
  fillSpan(ctx, g, v, base, lo, row.y, row.h);
  fillSpan(ctx, g, v, hi, end, row.y, row.h);
  ctx.fillStyle = p.theme.exposure;
  fillSpan(ctx, g, v, base, lo, row.y, 3);
  fillSpan(ctx, g, v, hi, end, row.y, 3);
}

function drawBlocks(p: PaintInput, blocks: Block[], v: Viewport, row: Row, band: 'iova' | 'phys'): void {
  const { ctx, g, theme, m } = p;
  const mp = m.mappings;
  const bpp = bytesPerPixel(v);
  const pad = 4;
  for (const b of blocks) {
    // At least 2 px and inside the plot, so a lone page in a 64 GiB aperture is still seen.
    const w = Math.max(b.x1 - b.x0, 2);
    const x = g.gutter + Math.min(b.x0, v.width - w);
    const fill = colorOf(p, b.item);
    const y = row.y + pad;
    const h = row.h - 2 * pad;
    if (b.count > 1) {
      // A summed column is a histogram bar: its height is the share of the column that is mapped. Colour
      // by buffer means nothing for hundreds of buffers, so it is neutral then; by device it is kept.
      const coverage = Math.min(1, b.bytes / (Math.max(w, 1) * bpp));
      const hh = Math.max(4, h * coverage);
      ctx.fillStyle = p.colorBy === 'device' ? fill : withAlpha(theme.foreground, 0.5);
      ctx.fillRect(x, y + h - hh, w, hh);
      if (b.flags & FLAG_EXPOSED) {
        ctx.fillStyle = theme.exposure;
        ctx.fillRect(x, y + h - hh, w, 2);
      }
      continue;
    }
    const i = b.item;
    const stale = (mp.flags[i] & FLAG_STALE) !== 0;
    // In the physical band, mappings whose IOVA is off screen are context: drawn faint.
    const offScreen = band === 'phys' && (mp.iova[i] + mp.size[i] <= p.scene.iovaView.start ||
      mp.iova[i] >= p.scene.iovaView.start + p.scene.iovaView.span);
    ctx.globalAlpha = offScreen ? 0.35 : 1;
    ctx.fillStyle = stale ? withAlpha(fill, 0.3) : fill;
    ctx.fillRect(x, y, w, h);
    if (stale) {
      ctx.fillStyle = p.patterns.stale;
      ctx.fillRect(x, y, w, h);
    }
    if (mp.flags[i] & FLAG_EXPOSED) hatchExposure(p, v, { y, h }, i, band === 'iova' ? mp.iova[i] : mp.paddr[i]);
    if (mp.flags[i] & FLAG_BOUNCE) {
      ctx.fillStyle = theme.bounce;
      ctx.fillRect(x, y + h - 4, w, 4);
    }
    if (w >= 4 && (stale || mp.flags[i] & FLAG_FAULTED)) {
      ctx.strokeStyle = stale ? theme.stale : theme.fault;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(stale ? [4, 3] : []);
      ctx.strokeRect(x + 0.75, y + 0.75, w - 1.5, h - 1.5);
      ctx.setLineDash([]);
    } else if (w >= 6) {
      ctx.strokeStyle = withAlpha(theme.background, 0.9);
      ctx.lineWidth = 1;
      ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
    }
    if (w >= 40) labelMapping(p, i, x, y, w, h, fill, stale);
    ctx.globalAlpha = 1;
  }
}

function labelMapping(p: PaintInput, i: number, x: number, y: number, w: number, h: number, fill: string, stale: boolean): void {
  const { ctx, m, theme } = p;
  const mp = m.mappings;
  const left = Math.max(x, p.g.gutter) + 5;
  const maxW = Math.min(x + w, p.g.gutter + p.scene.iovaView.width) - left - 4;
  const name = (mp.buffer[i] >= 0 ? stringAt(m, m.buffers.id[mp.buffer[i]]) : stringAt(m, mp.owner[i])) ?? 'mapping';
  const twoLines = h >= 34;
  const title = stale ? `stale: ${name}` : name;
  const extra = mp.exposed[i] > 0 ? ` +${bytesLabel(mp.exposed[i])} exposed` : '';
  const detail = `${bytesLabel(mp.size[i])} ${stringAt(m, mp.prot[i]) ?? ''}${extra}`;
  if (stale || mp.exposed[i] > 0) {
    // Text over hatching needs a quiet backing to stay readable.
    setFont(ctx, theme, 11, false, true);
    let tw = ctx.measureText(title).width;
    setFont(ctx, theme, 10, true);
    if (twoLines) tw = Math.max(tw, ctx.measureText(detail).width);
    ctx.fillStyle = withAlpha(theme.background, 0.75);
    ctx.fillRect(left - 3, y + h / 2 - (twoLines ? 15 : 8), Math.min(maxW, tw) + 6, twoLines ? 30 : 16);
  }
  ctx.fillStyle = stale || mp.exposed[i] > 0 ? theme.foreground : textOn(fill);
  ctx.textBaseline = 'middle';
  setFont(ctx, theme, 11, false, true);
  boxText(ctx, title, left, twoLines ? y + h / 2 - 7 : y + h / 2, maxW);
  if (twoLines) {
    setFont(ctx, theme, 10, true);
    boxText(ctx, detail, left, y + h / 2 + 8, maxW);
  }
}

/** Bands of translucent quads from each IOVA block to the physical range it maps. */
function drawLinks(p: PaintInput): void {
  const { ctx, g, scene } = p;
  const top = g.links.y;
  const bottom = g.links.y + g.links.h;
  const clampX = (x: number) => Math.min(Math.max(x, -20), scene.physView.width + 20);
  if (scene.iova.length > 150) {
    // Too many to fill: one thin line per block, from its middle to where its largest mapping lands.
    ctx.strokeStyle = withAlpha(p.theme.foreground, 0.14);
    ctx.lineWidth = 1;
    ctx.beginPath();
    const mp = p.m.mappings;
    for (const b of scene.iova) {
      const a = g.gutter + (b.x0 + b.x1) / 2;
      const q = g.gutter + clampX(addrToX(scene.physView, mp.paddr[b.item] + mp.size[b.item] / 2));
      ctx.moveTo(a, top);
      ctx.bezierCurveTo(a, top + g.links.h / 2, q, bottom - g.links.h / 2, q, bottom);
    }
    ctx.stroke();
    return;
  }
  for (const b of scene.iova) {
    if (!(b.otherHi > b.otherLo)) continue;
    const a0 = g.gutter + b.x0;
    const a1 = g.gutter + Math.max(b.x1, b.x0 + 0.5);
    const p0 = g.gutter + clampX(addrToX(scene.physView, b.otherLo));
    const p1 = g.gutter + clampX(Math.max(addrToX(scene.physView, b.otherHi), addrToX(scene.physView, b.otherLo) + 0.5));
    const c = b.count > 1 ? p.theme.foreground : colorOf(p, b.item);
    ctx.fillStyle = withAlpha(c, b.count > 1 ? 0.12 : 0.28);
    ctx.beginPath();
    ctx.moveTo(a0, top);
    ctx.bezierCurveTo(a0, top + g.links.h / 2, p0, bottom - g.links.h / 2, p0, bottom);
    ctx.lineTo(p1, bottom);
    ctx.bezierCurveTo(p1, bottom - g.links.h / 2, a1, top + g.links.h / 2, a1, top);
    ctx.closePath();
    ctx.fill();
  }
}

function drawMarkers(p: PaintInput): void {
  const { ctx, g, theme, scene, m } = p;
  const row = g.markers;
  const iova = g.iova;
  // Three lanes: faults on top, stale IOTLB entries in the middle, exposure along the bottom edge.
  ctx.fillStyle = theme.exposure;
  for (const b of scene.iova) {
    if (b.flags & FLAG_EXPOSED) ctx.fillRect(g.gutter + b.x0, row.y + row.h - 3, Math.max(b.x1 - b.x0, 2), 3);
  }
  ctx.fillStyle = theme.stale;
  for (const s of scene.stale) diamond(ctx, g.gutter + s.x, row.y + 13, 4);
  setFont(ctx, theme, 10, false, true);
  ctx.textBaseline = 'top';
  const lines = scene.faults.length <= 30;
  for (const f of scene.faults) {
    const x = g.gutter + f.x;
    if (lines) {
      // Where the device's access landed, down through the IOVA band.
      ctx.strokeStyle = theme.fault;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([3, 2]);
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, row.y + 8);
      ctx.lineTo(Math.round(x) + 0.5, iova.y + iova.h);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    ctx.fillStyle = theme.fault;
    triangle(ctx, x, row.y + 1, 5);
    if (f.count > 1 && lines) ctx.fillText(`×${f.count}`, x + 7, row.y);
  }
  if (p.walkIova !== null) {
    const x = addrToX(scene.iovaView, p.walkIova);
    if (x >= 0 && x <= scene.iovaView.width) {
      ctx.strokeStyle = theme.focus;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(g.gutter + x, iova.y);
      ctx.lineTo(g.gutter + x, iova.y + iova.h);
      ctx.stroke();
    }
  }
  void m;
}

function drawBuffers(p: PaintInput): void {
  const { ctx, g, theme, scene, m } = p;
  const row = g.buffers;
  const y = row.y + 3;
  const h = row.h - 6;
  setFont(ctx, theme, 10, false);
  ctx.textBaseline = 'middle';
  for (const b of scene.buffers) {
    const x = g.gutter + b.x0;
    const w = Math.max(b.x1 - b.x0, 1);
    const bf = m.buffers.flags[b.item];
    const buf = { bounce: (bf & BUF_BOUNCE) !== 0, freed: (bf & BUF_FREED) !== 0 };
    const c = buf.bounce ? theme.bounce
      : p.colorBy === 'buffer' && b.count === 1 ? theme.palette[b.item % theme.palette.length] : theme.muted;
    ctx.fillStyle = withAlpha(c, b.count > 1 ? 0.5 : buf.freed ? 0.12 : 0.45);
    ctx.fillRect(x, y, w, h);
    if (b.count === 1 && w >= 4) {
      ctx.strokeStyle = c;
      ctx.lineWidth = 1;
      ctx.setLineDash(buf.freed ? [3, 2] : []);
      ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
      ctx.setLineDash([]);
    }
    if (b.count === 1 && w >= 30) {
      ctx.fillStyle = theme.foreground;
      const left = Math.max(x, g.gutter) + 4;
      boxText(ctx, `${buf.bounce ? 'bounce ' : ''}${bufferAt(m, b.item).id}${buf.freed ? ' (freed)' : ''}`, left, y + h / 2,
        Math.min(x + w, g.gutter + scene.physView.width) - left - 3);
    }
  }
}

function drawHoleLabels(p: PaintInput): void {
  const { ctx, g, theme, scene, m, idx } = p;
  if (scene.iova.length > 300) return;
  setFont(ctx, theme, 10, false);
  ctx.fillStyle = theme.muted;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  let prevRight = 0;
  const label = holeMeaning(m.domain?.type ?? '').label;
  const edges = scene.iova.map(b => [b.x0, Math.max(b.x1, b.x0 + 1)]).concat([[scene.iovaView.width, scene.iovaView.width]]);
  for (const [x0, x1] of edges) {
    if (x0 - prevRight >= 80) {
      const mid = (prevRight + x0) / 2;
      const hole = holeAt(m, idx, scene.iovaView.start + mid * bytesPerPixel(scene.iovaView));
      if (hole) ctx.fillText(`${label} ${bytesLabel(hole.end - hole.start)}`, g.gutter + mid, g.iova.y + g.iova.h / 2, x0 - prevRight - 10);
    }
    prevRight = Math.max(prevRight, x1);
  }
  ctx.textAlign = 'left';
}

function drawHover(p: PaintInput): void {
  const { ctx, g, theme, scene, m } = p;
  const h = p.hover;
  if (!h || h.kind !== 'mapping') return;
  const mp = m.mappings;
  ctx.strokeStyle = theme.focus;
  ctx.lineWidth = 2;
  const box = (v: Viewport, row: Row, lo: number) => {
    const a = Math.max(addrToX(v, lo), -3);
    const b = Math.min(addrToX(v, lo + mp.size[h.item]), v.width + 3);
    ctx.strokeRect(g.gutter + a - 1, row.y + 2, Math.max(b - a, 1) + 2, row.h - 4);
  };
  box(scene.iovaView, g.iova, mp.iova[h.item]);
  box(scene.physView, g.phys, mp.paddr[h.item]);
}

export function paint(p: PaintInput): void {
  const { ctx, g, theme, m, idx, scene } = p;
  const W = g.gutter + scene.iovaView.width;
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, W, g.height);
  ctx.save();
  ctx.beginPath();
  ctx.rect(g.gutter, 0, scene.iovaView.width, g.height);
  ctx.clip();
  const iv = scene.iovaView;
  const pv = scene.physView;
  const ap = m.domain?.aperture;
  if (ap) {
    shadeRange(ctx, g, g.iova, iv, -Infinity, ap.start, theme.outside);
    shadeRange(ctx, g, g.iova, iv, ap.end, Infinity, theme.outside);
  }
  for (const i of visibleReserved(m, idx, iv)) shadeRange(ctx, g, g.iova, iv, m.reserved[i].start, m.reserved[i].end, p.patterns.reserved);
  if (m.memory) {
    shadeRange(ctx, g, g.phys, pv, -Infinity, m.memory.base, theme.outside);
    shadeRange(ctx, g, g.phys, pv, m.memory.base + m.memory.size, Infinity, theme.outside);
  }
  drawHoleLabels(p);
  drawLinks(p);
  drawBlocks(p, scene.iova, iv, g.iova, 'iova');
  drawBlocks(p, scene.phys, pv, g.phys, 'phys');
  // Granule boundaries over the blocks (a 64 KiB mapping is four 16 KiB IOPTEs); CPU pages as edge ticks.
  const granule = m.domain?.granule ?? 0;
  drawGrid(ctx, g, g.iova, iv, granule, theme.grid, 8);
  drawGrid(ctx, g, g.phys, pv, granule, theme.grid, 8);
  if (m.pageSize < granule) drawGrid(ctx, g, g.phys, pv, m.pageSize, withAlpha(theme.foreground, 0.45), 6, 6);
  drawBuffers(p);
  drawMarkers(p);
  drawHover(p);
  drawRuler(ctx, theme, g, g.iovaRuler, iv, false);
  drawRuler(ctx, theme, g, g.physRuler, pv, true);
  ctx.restore();
  const d = m.domain;
  drawGutter(ctx, theme, g, [
    [g.iova, 'IOVA', d ? `${d.id} · ${d.type}` : ''],
    [g.markers, '', ''],
    [g.links, 'maps to', p.follow ? 'PA follows' : 'PA pinned'],
    [g.phys, 'PA', d ? `granule ${bytesLabel(d.granule)}` : ''],
    [g.buffers, 'buffers', ''],
  ]);
}
