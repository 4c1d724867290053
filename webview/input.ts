// Pointer, wheel and keyboard on the map canvas: wheel zooms at the cursor (horizontal wheel pans), drag
// pans, hover shows the tooltip, click reveals / opens source / walks, double-click zooms into a block.
import { rowAt } from './layout';
import { clickAction, type ClickAction } from './describe';
import type { BandName, MapController } from './controller';

/** Drag distance below which a press counts as a click. */
const CLICK_SLOP_PX = 4;

function bandAt(c: MapController, y: number): BandName {
  const row = rowAt(c.g, y);
  return row === 'phys' || row === 'buffers' || row === 'physRuler' ? 'phys' : 'iova';
}

function local(c: MapController, e: MouseEvent): { x: number; y: number } {
  // Relative to the content box: the canvas has a border.
  const cv = c.dom.canvas;
  const r = cv.getBoundingClientRect();
  return { x: e.clientX - r.left - cv.clientLeft, y: e.clientY - r.top - cv.clientTop };
}

export function attachInput(c: MapController, onClick: (a: ClickAction) => void): void {
  const canvas = c.dom.canvas;
  let drag: { x: number; band: BandName; moved: boolean; id: number } | null = null;

  canvas.addEventListener('wheel', e => {
    e.preventDefault();
    const p = local(c, e);
    const band = bandAt(c, p.y);
    const scale = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
    if (Math.abs(e.deltaX) > Math.abs(e.deltaY) || e.shiftKey) {
      c.pan(band, -(e.shiftKey && !e.deltaX ? e.deltaY : e.deltaX) * scale);
    } else {
      c.zoom(band, p.x - c.g.gutter, Math.exp(-e.deltaY * scale * 0.002));
    }
  }, { passive: false });

  canvas.addEventListener('pointerdown', e => {
    if (e.button !== 0) return;
    const p = local(c, e);
    drag = { x: p.x, band: bandAt(c, p.y), moved: false, id: e.pointerId };
    canvas.setPointerCapture(e.pointerId);
  });

  canvas.addEventListener('pointermove', e => {
    const p = local(c, e);
    if (drag && drag.id === e.pointerId) {
      const dx = p.x - drag.x;
      if (!drag.moved && Math.abs(dx) < CLICK_SLOP_PX) return;
      drag.moved = true;
      drag.x = p.x;
      canvas.classList.add('dragging');
      c.setHover(null, 0, 0);
      c.pan(drag.band, dx);
      return;
    }
    c.setHover(c.hitAt(p.x, p.y), p.x, p.y);
  });

  const endDrag = (e: PointerEvent, click: boolean) => {
    if (!drag || drag.id !== e.pointerId) return;
    const wasClick = click && !drag.moved;
    drag = null;
    canvas.classList.remove('dragging');
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
    if (!wasClick || !c.model) return;
    const p = local(c, e);
    const hit = c.hitAt(p.x, p.y);
    if (hit) onClick(clickAction(c.model, hit));
  };
  canvas.addEventListener('pointerup', e => endDrag(e, true));
  canvas.addEventListener('pointercancel', e => endDrag(e, false));
  canvas.addEventListener('pointerleave', () => { if (!drag) c.setHover(null, 0, 0); });

  canvas.addEventListener('dblclick', e => {
    const p = local(c, e);
    const hit = c.hitAt(p.x, p.y);
    const band = bandAt(c, p.y);
    const blocks = band === 'iova' ? c.scene?.iova : c.scene?.phys;
    if (hit && (hit.kind === 'mapping' || hit.kind === 'bucket') && blocks) {
      const b = hit.kind === 'bucket' ? hit.block : blocks.find(x => x.item === hit.item && x.count === 1);
      if (b) c.zoomToPixels(hit.band, b.x0, Math.max(b.x1, b.x0 + 1));
    } else {
      c.zoom(band, p.x - c.g.gutter, 4);
    }
  });

  canvas.addEventListener('keydown', e => {
    const w = c.iovaView.width;
    const band: BandName = e.altKey ? 'phys' : 'iova';
    const handled = (() => {
      switch (e.key) {
        case 'ArrowLeft': c.pan(band, w * (e.shiftKey ? 0.5 : 0.1)); return true;
        case 'ArrowRight': c.pan(band, -w * (e.shiftKey ? 0.5 : 0.1)); return true;
        case '+': case '=': case 'ArrowUp': c.zoom(band, w / 2, 2); return true;
        case '-': case '_': case 'ArrowDown': c.zoom(band, w / 2, 0.5); return true;
        case '0': case 'Home': c.fit(); return true;
        case 'm': c.fitMapped(); return true;
        case 'f': c.setFollow(!c.follow); return true;
        default: return false;
      }
    })();
    if (handled) e.preventDefault();
  });
}
