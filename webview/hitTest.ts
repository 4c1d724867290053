// Pixel -> the thing drawn there (mapping, summed column, fault marker, buffer, reserved region, hole),
// read from the Scene of the last paint. Pure.
import type { Block } from './lod';
import { rowAt, xToAddr, type BandGeometry } from './layout';
import type { MapModel } from './modelTypes';
import { holeAt, visibleReserved, type ModelIndex, type Scene } from './scene';
import { FLAG_STALE } from './modelTypes';

export type Band = 'iova' | 'phys';

export type Hit =
  | { kind: 'mapping'; band: Band; item: number }
  | { kind: 'bucket'; band: Band; block: Block }
  | { kind: 'faults'; first: number; count: number }
  | { kind: 'buffer'; index: number }
  | { kind: 'buffers'; block: Block }
  | { kind: 'reserved'; index: number }
  | { kind: 'hole'; start: number; end: number }
  | { kind: 'outside'; band: Band; addr: number }
  | { kind: 'physical'; addr: number };

/** Pointer slack for blocks narrower than a finger: a 1-pixel mapping is still hoverable. */
const SLACK_PX = 3;

/**
 * The block under plot x: one that contains x, else the nearest within SLACK_PX; among several the
 * narrowest (a stale entry overlapping the mapping that reused its IOVA is still reachable).
 */
export function pickBlock(blocks: readonly Block[], x: number, slack = SLACK_PX): Block | null {
  let best: Block | null = null;
  let bestDist = Infinity;
  let bestWidth = Infinity;
  for (const b of blocks) {
    const right = Math.max(b.x1, b.x0 + 1);
    const dist = x < b.x0 ? b.x0 - x : x > right ? x - right : 0;
    if (dist > slack) continue;
    const width = right - b.x0;
    if (dist < bestDist || (dist === bestDist && width < bestWidth)) {
      best = b;
      bestDist = dist;
      bestWidth = width;
    }
  }
  return best;
}

function blockHit(band: Band, b: Block): Hit {
  return b.count === 1 ? { kind: 'mapping', band, item: b.item } : { kind: 'bucket', band, block: b };
}

/** What is at canvas point (x, y) in CSS pixels (x includes the gutter). */
export function hitTest(scene: Scene, g: BandGeometry, m: MapModel, idx: ModelIndex, x: number, y: number): Hit | null {
  const px = x - g.gutter;
  if (px < 0 || px > scene.iovaView.width) return null;
  const row = rowAt(g, y);
  switch (row) {
    case 'markers': {
      let near: { d: number; first: number; count: number } | null = null;
      for (const f of scene.faults) {
        const d = Math.abs(f.x - px);
        if (d <= 6 && (!near || d < near.d)) near = { d, first: f.first, count: f.count };
      }
      if (near) return { kind: 'faults', first: near.first, count: near.count };
      const stale = pickBlock(scene.iova.filter(b => b.flags & FLAG_STALE), px, 5);
      return stale ? blockHit('iova', stale) : null;
    }
    case 'iova': {
      const b = pickBlock(scene.iova, px);
      if (b) return blockHit('iova', b);
      const addr = xToAddr(scene.iovaView, px);
      for (const i of visibleReserved(m, idx, scene.iovaView)) {
        if (addr >= m.reserved[i].start && addr < m.reserved[i].end) return { kind: 'reserved', index: i };
      }
      const hole = holeAt(m, idx, addr);
      return hole ? { kind: 'hole', ...hole } : { kind: 'outside', band: 'iova', addr };
    }
    case 'phys': {
      const b = pickBlock(scene.phys, px);
      if (b) return blockHit('phys', b);
      const addr = xToAddr(scene.physView, px);
      const inDram = m.memory ? addr >= m.memory.base && addr < m.memory.base + m.memory.size : true;
      return inDram ? { kind: 'physical', addr } : { kind: 'outside', band: 'phys', addr };
    }
    case 'buffers': {
      const b = pickBlock(scene.buffers, px);
      if (!b) return null;
      return b.count === 1 ? { kind: 'buffer', index: b.item } : { kind: 'buffers', block: b };
    }
    default:
      return null;
  }
}
