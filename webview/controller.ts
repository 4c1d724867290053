// State of the map in the browser: the model, both viewports, hover, walk, and painting on demand
// (one paint per animation frame at most). Input handlers (input.ts) and messages (main.ts) drive it.
import { bandGeometry, clampViewport, fitAll, fitRange, panBy, resize, zoomAt, type BandGeometry, type Viewport } from './layout';
import { computeScene, indexModel, type ModelIndex, type Scene } from './scene';
import { hitTest, type Hit } from './hitTest';
import { paint, type ColorBy } from './render';
import { makePatterns, type Patterns } from './renderParts';
import { readTheme, type Theme } from './theme';
import { describe } from './describe';
import { bytesLabel, hexAddr, hexDigitsFor } from './format';
import { clearWalk, hideTooltip, setDomains, showTooltip, type MapDom } from './ui';
import { FLAG_STALE, type MapModel } from './modelTypes';
import type { MapFocusRange, MapViewState } from './protocol';

export type BandName = 'iova' | 'phys';

const CANVAS_HEIGHT = 340;

export class MapController {
  model: MapModel | null = null;
  idx: ModelIndex | null = null;
  scene: Scene | null = null;
  iovaView: Viewport = { start: 0, span: 2 ** 32, width: 800 };
  physView: Viewport = { start: 0, span: 2 ** 32, width: 800 };
  follow = true;
  colorBy: ColorBy = 'buffer';
  hover: Hit | null = null;
  walkIova: number | null = null;
  /** where to look once the snapshot of this domain arrives */
  pendingFocus: { domainId: string; focus: MapFocusRange } | null = null;
  /** state restored from a previous life of the webview, applied to the first snapshot of its domain */
  restored: MapViewState | null = null;
  readonly g: BandGeometry = bandGeometry(CANVAS_HEIGHT);
  theme: Theme;
  patterns: Patterns;
  paints = 0;
  /** performance.now() when the last snapshot arrived, until the paint that shows it */
  snapshotAt = 0;
  /** ms the last snapshot took to receive (deserialize + check) and to index, published with its first paint */
  receiveMs = 0;
  /** the part of receiveMs spent deserializing the message (Chromium does it on the first read of e.data) */
  deserializeMs = 0;
  indexMs = 0;
  readonly paintTimes: number[] = [];
  private frame = 0;
  private summaryTimer: ReturnType<typeof setTimeout> | undefined;
  private ctx: CanvasRenderingContext2D;

  constructor(readonly dom: MapDom, private readonly onStateChange: () => void) {
    const ctx = dom.canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('the address map needs a 2D canvas');
    this.ctx = ctx;
    this.theme = readTheme(document.documentElement, document.body);
    this.patterns = makePatterns(this.theme);
  }

  plotWidth(): number {
    return Math.max(200, Math.floor(this.dom.stage.clientWidth || 800) - this.g.gutter);
  }

  setModel(m: MapModel): void {
    const sameDomain = this.model?.domain?.id === m.domain?.id && m.domain !== null;
    this.model = m;
    const t0 = performance.now();
    this.idx = indexModel(m);
    this.indexMs = performance.now() - t0;
    const width = this.plotWidth();
    const r = this.restored;
    if (m.domain && r && r.domainId === m.domain.id) {
      this.restored = null;
      this.colorBy = r.colorBy;
      if (r.iova) this.iovaView = clampViewport({ ...r.iova, width }, this.idx.iovaLimits);
      else this.iovaView = fitAll(width, this.idx.iovaLimits);
      if (r.phys) {
        this.follow = r.phys.follow;
        this.physView = clampViewport({ start: r.phys.start, span: r.phys.span, width }, this.idx.physLimits);
      }
    } else if (sameDomain) {
      this.iovaView = clampViewport({ ...this.iovaView, width }, this.idx.iovaLimits);
      this.physView = clampViewport({ ...this.physView, width }, this.idx.physLimits);
    } else {
      this.iovaView = this.mappedView(width) ?? fitAll(width, this.idx.iovaLimits);
      this.physView = fitAll(width, this.idx.physLimits);
      this.follow = true;
      this.walkIova = null;
      clearWalk(this.dom);
    }
    if (this.pendingFocus && m.domain && this.pendingFocus.domainId === m.domain.id) {
      this.applyFocus(this.pendingFocus.focus);
      this.pendingFocus = null;
    }
    this.hover = null;
    hideTooltip(this.dom);
    this.updateChrome();
    this.requestPaint();
    this.onStateChange();
  }

  /** Zooms to an IOVA (or to the mapping holding a physical address), keeping some neighbourhood in view. */
  applyFocus(f: MapFocusRange): void {
    const m = this.model;
    if (!m || !this.idx) return;
    let iova = f.iova;
    let size = f.size ?? m.domain?.granule ?? 4096;
    if (iova === undefined && f.paddr !== undefined) {
      const mp = m.mappings;
      for (let i = 0; i < mp.paddr.length; i++) {
        if (f.paddr >= mp.paddr[i] && f.paddr < mp.paddr[i] + mp.size[i]) { iova = mp.iova[i]; size = mp.size[i]; break; }
      }
    }
    if (iova === undefined) return;
    // One mapping: show its neighbours too; a range: show just the range.
    const pad = size > 4 * (m.domain?.granule ?? 4096) ? 0.04 : 1.5;
    this.iovaView = fitRange(iova, iova + size, this.plotWidth(), this.idx.iovaLimits, pad);
    this.follow = true;
  }

  state(): MapViewState {
    return {
      domainId: this.model?.domain?.id ?? this.restored?.domainId ?? null,
      iova: this.model ? { start: this.iovaView.start, span: this.iovaView.span } : this.restored?.iova ?? null,
      phys: this.model ? { start: this.physView.start, span: this.physView.span, follow: this.follow } : this.restored?.phys ?? null,
      colorBy: this.colorBy,
      walkAddress: this.dom.walkField.value ?? '',
    };
  }

  zoom(band: BandName, x: number, factor: number): void {
    if (!this.idx) return;
    if (band === 'iova') this.iovaView = zoomAt(this.iovaView, x, factor, this.idx.iovaLimits);
    else {
      this.physView = zoomAt(this.scene?.physView ?? this.physView, x, factor, this.idx.physLimits);
      this.follow = false;
    }
    this.viewChanged();
  }

  pan(band: BandName, dx: number): void {
    if (!this.idx) return;
    if (band === 'iova') this.iovaView = panBy(this.iovaView, dx, this.idx.iovaLimits);
    else {
      this.physView = panBy(this.scene?.physView ?? this.physView, dx, this.idx.physLimits);
      this.follow = false;
    }
    this.viewChanged();
  }

  zoomToPixels(band: BandName, x0: number, x1: number): void {
    if (!this.idx) return;
    const v = band === 'iova' ? this.iovaView : this.scene?.physView ?? this.physView;
    const lo = v.start + (x0 * v.span) / v.width;
    const hi = v.start + (x1 * v.span) / v.width;
    const lim = band === 'iova' ? this.idx.iovaLimits : this.idx.physLimits;
    const next = fitRange(lo, hi, v.width, lim, 0.2);
    if (band === 'iova') this.iovaView = next;
    else { this.physView = next; this.follow = false; }
    this.viewChanged();
  }

  /** The IOVA range holding every mapping and fault, with a little room (null when there are none). */
  mappedView(width: number): Viewport | null {
    const m = this.model;
    const idx = this.idx;
    if (!m || !idx) return null;
    let lo = Infinity;
    let hi = -Infinity;
    const n = idx.byIova.start.length;
    if (n) { lo = idx.byIova.start[0]; hi = idx.byIova.maxEnd[n - 1]; }
    for (const f of m.faults) { lo = Math.min(lo, f.iova); hi = Math.max(hi, f.iova + 1); }
    return hi > lo ? fitRange(lo, hi, width, idx.iovaLimits, 0.03) : null;
  }

  fitMapped(): void {
    const v = this.mappedView(this.plotWidth());
    if (!v) return;
    this.iovaView = v;
    this.follow = true;
    this.viewChanged();
  }

  fit(): void {
    if (!this.idx) return;
    this.iovaView = fitAll(this.plotWidth(), this.idx.iovaLimits);
    this.follow = true;
    this.viewChanged();
  }

  setFollow(on: boolean): void {
    this.follow = on;
    this.viewChanged();
  }

  viewChanged(): void {
    this.updateChrome();
    this.requestPaint();
    this.onStateChange();
  }

  themeChanged(): void {
    this.theme = readTheme(document.documentElement, document.body);
    this.patterns = makePatterns(this.theme);
    this.requestPaint();
  }

  setHover(h: Hit | null, x: number, y: number): void {
    const same = JSON.stringify(h) === JSON.stringify(this.hover);
    this.hover = h;
    if (h && this.model) showTooltip(this.dom, describe(this.model, h), x, y);
    else hideTooltip(this.dom);
    if (!same) this.requestPaint();
  }

  hitAt(x: number, y: number): Hit | null {
    if (!this.scene || !this.model || !this.idx) return null;
    return hitTest(this.scene, this.g, this.model, this.idx, x, y);
  }

  requestPaint(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.paintNow();
    });
  }

  paintNow(): void {
    const m = this.model;
    const { canvas } = this.dom;
    if (!m || !this.idx || m.message !== null) return;
    const t0 = performance.now();
    const width = this.plotWidth();
    if (width !== this.iovaView.width) {
      this.iovaView = resize(this.iovaView, width, this.idx.iovaLimits);
      this.physView = resize(this.physView, width, this.idx.physLimits);
    }
    const dpr = window.devicePixelRatio || 1;
    const cssW = width + this.g.gutter;
    const cssH = this.g.height;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
      canvas.style.width = `${cssW}px`;
      canvas.style.height = `${cssH}px`;
    }
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const ts = performance.now();
    this.scene = computeScene(m, this.idx, this.iovaView, this.physView, this.follow);
    const sceneMs = performance.now() - ts;
    if (this.follow) this.physView = this.scene.physView;
    paint({ ctx: this.ctx, g: this.g, theme: this.theme, patterns: this.patterns, m, idx: this.idx, scene: this.scene,
      colorBy: this.colorBy, hover: this.hover, follow: this.follow, walkIova: this.walkIova });
    const now = performance.now();
    const ms = now - t0;
    if (this.snapshotAt) {
      this.dom.stats.dataset.firstPaintMs = (now - this.snapshotAt).toFixed(2);
      this.dom.stats.dataset.receiveMs = this.receiveMs.toFixed(2);
      this.dom.stats.dataset.deserializeMs = this.deserializeMs.toFixed(2);
      this.dom.stats.dataset.indexMs = this.indexMs.toFixed(2);
      this.dom.stats.dataset.firstPaintOwnMs = ms.toFixed(2);
      this.dom.stats.dataset.sceneMs = sceneMs.toFixed(2);
      this.snapshotAt = 0;
    }
    this.paints++;
    this.paintTimes.push(ms);
    if (this.paintTimes.length > 600) this.paintTimes.shift();
    this.publishStats(ms);
  }

  /** Test and accessibility hook: counts of what this paint drew, and a sentence for screen readers. */
  private publishStats(ms: number): void {
    const s = this.scene!.stats;
    const m = this.model!;
    const d = this.dom.stats.dataset;
    d.domain = m.domain?.id ?? '';
    d.blocks = String(s.blocks);
    d.physBlocks = String(s.physBlocks);
    d.exposureMarkers = String(s.exposureMarkers);
    d.faultMarkers = String(s.faultMarkers);
    d.staleMarkers = String(s.staleMarkers);
    d.bounceMarkers = String(s.bounceMarkers);
    d.visibleMappings = String(s.visibleMappings);
    d.iovaStart = String(this.iovaView.start);
    d.iovaSpan = String(this.iovaView.span);
    d.paints = String(this.paints);
    d.paintMs = ms.toFixed(2);
    // The sentence is for screen readers (aria-live): say it once the view settles, not on every frame.
    clearTimeout(this.summaryTimer);
    this.summaryTimer = setTimeout(() => this.writeSummary(s), 400);
  }

  private writeSummary(s: Scene['stats']): void {
    const m = this.model;
    if (!m) return;
    const dm = m.domain;
    const digits = hexDigitsFor(dm ? dm.aperture.end : 2 ** 32);
    this.dom.summary.textContent = dm
      ? `Domain ${dm.id} (${dm.type} on ${dm.iommu}${dm.devices.length ? `, devices ${dm.devices.join(', ')}` : ''}): ` +
        `${s.visibleMappings} of ${m.mappings.iova.length} mappings visible (${bytesLabel(s.visibleBytes)}) in IOVA ` +
        `${hexAddr(this.iovaView.start, digits)}–${hexAddr(this.iovaView.start + this.iovaView.span - 1, digits)}; ` +
        `${s.exposureMarkers} with exposure beyond their buffer, ${s.staleMarkers} stale IOTLB entries, ${s.faultMarkers} fault markers.`
      : 'No domain.';
  }

  /** Toolbar, status line, problems, empty-state message. */
  updateChrome(): void {
    const m = this.model;
    const dom = this.dom;
    if (!m) return;
    setDomains(dom, m.domains, m.domain?.id ?? null);
    if (dom.colorBy.value !== this.colorBy) dom.colorBy.value = this.colorBy;
    dom.follow.toggleAttribute('secondary', !this.follow);
    dom.follow.setAttribute('aria-pressed', String(this.follow));
    dom.message.hidden = m.message === null;
    dom.message.textContent = m.message ?? '';
    dom.stage.hidden = m.message !== null;
    dom.problems.hidden = m.problems.length === 0;
    dom.problems.textContent = m.problems.length ? `Report values skipped: ${m.problems.slice(0, 5).join('; ')}` +
      (m.problems.length > 5 ? ` (and ${m.problems.length - 5} more)` : '') : '';
    const d = m.domain;
    if (!d) { dom.status.textContent = ''; return; }
    const mp = m.mappings;
    let exposed = 0;
    let stale = 0;
    for (let i = 0; i < mp.exposed.length; i++) { exposed += mp.exposed[i]; if (mp.flags[i] & FLAG_STALE) stale++; }
    const digits = hexDigitsFor(d.aperture.end);
    dom.status.textContent = [
      `${d.id} ${d.type} on ${d.iommu}${d.format ? ` (${d.format})` : ''}`,
      `granule ${bytesLabel(d.granule)}, CPU page ${bytesLabel(m.pageSize)}`,
      `aperture ${hexAddr(d.aperture.start, digits)}–${hexAddr(d.aperture.end - 1, digits)}`,
      `${mp.iova.length.toLocaleString('en-US')} mappings`,
      exposed ? `${bytesLabel(exposed)} exposed` : 'no exposure',
      stale ? `${stale} stale` : '',
      m.faults.length ? `${m.faults.length} fault${m.faults.length > 1 ? 's' : ''}` : '',
      `view ${bytesLabel(this.iovaView.span)} wide`,
    ].filter(Boolean).join(' · ');
  }
}
