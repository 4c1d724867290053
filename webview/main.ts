// Entry of the address-map webview (bundled to dist/webview.js). Inside VS Code it talks to the panel
// through acquireVsCodeApi(); opened as a plain page (benchmarks, screenshots) it accepts the same
// host messages through window.postMessage, e.g. postMessage({ type: 'snapshot', model }, '*').
import './map.css';
import { buildDom, showWalk } from './ui';
import { MapController } from './controller';
import { attachInput } from './input';
import { parseAddress, hexDigitsFor } from './format';
import { validateMapViewState, type MapViewState, type WebviewToHost } from './protocol';
import { validateHostMessage } from './hostMessage';
import { emptyMapModel } from './modelTypes';
import type { ClickAction } from './describe';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

/**
 * The VS Code API, or a stand-in that keeps posted messages for a harness to read and hands each to
 * window.__iommuLensHost when a harness installed one (Playwright's exposeFunction).
 */
function hostApi(): VsCodeApi & { sent: WebviewToHost[] } {
  const sent: WebviewToHost[] = [];
  if (typeof acquireVsCodeApi === 'function') {
    const api = acquireVsCodeApi();
    return { sent, postMessage: m => api.postMessage(m), getState: () => api.getState(), setState: s => api.setState(s) };
  }
  let state: unknown = null;
  const harness = () => (window as unknown as { __iommuLensHost?: (m: unknown) => void }).__iommuLensHost;
  return {
    sent,
    postMessage: m => { sent.push(m as WebviewToHost); harness()?.(m); },
    getState: () => state,
    setState: s => { state = s; },
  };
}

const HOST_TYPES = new Set(['snapshot', 'selectDomain', 'walk']);

/** Whether a window message claims to come from the panel (others, if any, are not ours to judge). */
function fromHost(x: unknown): boolean {
  return typeof x === 'object' && x !== null && HOST_TYPES.has((x as { type?: unknown }).type as string);
}

function start(): void {
  const api = hostApi();
  const post = (m: WebviewToHost) => api.postMessage(m);
  const dom = buildDom(document.body);
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  const c = new MapController(dom, () => {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      const s = c.state();
      api.setState(s);
      post({ type: 'stateChanged', state: s });
    }, 250);
  });

  let restored: MapViewState | null = null;
  const saved = api.getState();
  if (saved) {
    try { restored = validateMapViewState(saved, 'state'); } catch { restored = null; }
  }
  c.restored = restored;
  if (restored?.walkAddress) dom.walkField.value = restored.walkAddress;
  if (restored) c.colorBy = restored.colorBy;

  const digits = () => hexDigitsFor(c.model?.domain?.aperture.end ?? 2 ** 32);
  const requestWalk = (iova: number) => {
    const d = c.model?.domain;
    if (!d) return;
    c.walkIova = iova;
    showWalk(dom, iova, digits(), 'pending');
    post({ type: 'requestWalk', domainId: d.id, iova });
    c.requestPaint();
  };

  const onClick = (a: ClickAction) => {
    if (a.reveal) post({ type: 'reveal', target: a.reveal });
    if (a.site) post({ type: 'goToSource', site: a.site });
    if (a.walk !== null) {
      dom.walkField.value = '0x' + a.walk.toString(16);
      requestWalk(a.walk);
      c.viewChanged();
    }
    if (a.zoom) c.zoomToPixels(a.zoom.band, a.zoom.x0, a.zoom.x1);
  };
  attachInput(c, onClick);

  dom.domain.addEventListener('change', () => {
    const id = dom.domain.value;
    if (id && id !== c.model?.domain?.id) post({ type: 'selectDomain', domainId: id });
  });
  dom.colorBy.addEventListener('change', () => {
    c.colorBy = dom.colorBy.value === 'device' ? 'device' : 'buffer';
    c.viewChanged();
  });
  const center = () => c.iovaView.width / 2;
  dom.zoomIn.addEventListener('click', () => c.zoom('iova', center(), 2));
  dom.zoomOut.addEventListener('click', () => c.zoom('iova', center(), 0.5));
  dom.fit.addEventListener('click', () => c.fit());
  dom.mapped.addEventListener('click', () => c.fitMapped());
  dom.follow.addEventListener('click', () => c.setFollow(!c.follow));
  const walkFromField = () => {
    const v = parseAddress(dom.walkField.value ?? '');
    if (typeof v === 'number') requestWalk(v);
    else dom.walkPanel.replaceChildren(Object.assign(document.createElement('p'), { className: 'walk-error', textContent: v.error }));
    c.viewChanged();
  };
  dom.walkButton.addEventListener('click', walkFromField);
  dom.walkField.addEventListener('keydown', e => { if ((e as KeyboardEvent).key === 'Enter') walkFromField(); });

  window.addEventListener('message', e => {
    // Before the first read of e.data: Chromium deserializes the message on that read, and the first-paint
    // figure (controller.snapshotAt) includes receiving the snapshot.
    const receivedAt = performance.now();
    const data: unknown = e.data;
    const deserializedAt = performance.now();
    if (!fromHost(data)) return;
    const msg = validateHostMessage(data);
    if (!('type' in msg)) {
      console.error(`IOMMU Lens address map: ignored a malformed message from the extension: ${msg.error}`);
      if ((data as { type: string }).type === 'snapshot') c.setModel(emptyMapModel(`The extension sent a map this page cannot draw: ${msg.error}`));
      return;
    }
    switch (msg.type) {
      case 'snapshot':
        c.snapshotAt = receivedAt;
        c.deserializeMs = deserializedAt - receivedAt;
        c.receiveMs = performance.now() - receivedAt;
        c.setModel(msg.model);
        break;
      case 'selectDomain':
        if (c.model?.domain?.id === msg.domainId) {
          if (msg.focus) { c.applyFocus(msg.focus); c.viewChanged(); }
        } else {
          c.pendingFocus = msg.focus ? { domainId: msg.domainId, focus: msg.focus } : null;
        }
        break;
      case 'walk':
        if (msg.domainId !== c.model?.domain?.id) break;
        c.walkIova = msg.iova;
        showWalk(dom, msg.iova, digits(), msg.error !== undefined ? { error: msg.error } : { levels: msg.levels });
        c.requestPaint();
        break;
    }
  });

  // VS Code swaps the theme class on <body> and the --vscode-* variables on <html>.
  const themeObserver = new MutationObserver(() => c.themeChanged());
  themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  new ResizeObserver(() => c.requestPaint()).observe(dom.stage);

  // Handle for harnesses and benchmarks (no effect inside VS Code).
  (window as unknown as { __iommuLensMap: unknown }).__iommuLensMap = {
    controller: c,
    sent: api.sent,
    paintTimes: c.paintTimes,
    paintNow: () => c.paintNow(),
  };
  post({ type: 'ready', state: restored });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
