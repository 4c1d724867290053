// The DOM around the canvas: toolbar (@vscode-elements widgets), status line, legend, tooltip, the
// page-table walk panel, and the test/accessibility hook [data-testid=map-stats].
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { Description } from './describe';
import type { MapDomainSummary } from './modelTypes';
import type { WalkLevel } from './protocol';
import { hexAddr } from './format';

type ValueElement = HTMLElement & { value: string };

export interface MapDom {
  root: HTMLElement;
  domain: ValueElement;
  colorBy: ValueElement;
  zoomOut: HTMLElement;
  zoomIn: HTMLElement;
  fit: HTMLElement;
  mapped: HTMLElement;
  follow: HTMLElement;
  walkField: ValueElement;
  walkButton: HTMLElement;
  status: HTMLElement;
  problems: HTMLElement;
  message: HTMLElement;
  stage: HTMLElement;
  canvas: HTMLCanvasElement;
  tooltip: HTMLElement;
  walkPanel: HTMLElement;
  stats: HTMLElement;
  summary: HTMLElement;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function custom(tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function option(value: string, label: string): HTMLElement {
  return custom('vscode-option', { value }, label);
}

export function buildDom(host: HTMLElement): MapDom {
  const root = el('div', 'map-root');
  const toolbar = el('div', 'toolbar');
  toolbar.setAttribute('role', 'toolbar');
  toolbar.setAttribute('aria-label', 'Address map controls');
  const domain = custom('vscode-single-select', { 'aria-label': 'Domain', class: 'domain-select' }) as ValueElement;
  const colorBy = custom('vscode-single-select', { 'aria-label': 'Colour blocks by', class: 'color-select' }) as ValueElement;
  colorBy.append(option('buffer', 'colour: buffer'), option('device', 'colour: device'));
  const zoomOut = custom('vscode-button', { secondary: '', title: 'Zoom out (-)', 'aria-label': 'Zoom out' }, '−');
  const zoomIn = custom('vscode-button', { secondary: '', title: 'Zoom in (+)', 'aria-label': 'Zoom in' }, '+');
  const fit = custom('vscode-button', { secondary: '', title: 'Show the whole aperture (0)' }, 'Aperture');
  const mapped = custom('vscode-button', { secondary: '', title: 'Show the range that has mappings or faults (m)' }, 'Mapped');
  const follow = custom('vscode-button', { secondary: '', title: 'Physical band follows the visible IOVA mappings (f)' }, 'PA: follow');
  const walkField = custom('vscode-textfield', { placeholder: 'IOVA to walk, e.g. 0xffffc000', 'aria-label': 'IOVA to walk',
    class: 'walk-field' }) as ValueElement;
  const walkButton = custom('vscode-button', { title: 'Walk the page table for this IOVA' }, 'Walk');
  const group = (...kids: HTMLElement[]) => { const g = el('div', 'group'); g.append(...kids); return g; };
  toolbar.append(group(domain, colorBy), group(zoomOut, zoomIn, fit, mapped, follow), group(walkField, walkButton));

  const status = el('div', 'status');
  status.setAttribute('aria-live', 'polite');
  const problems = el('div', 'problems');
  const message = el('div', 'message');
  const stage = el('div', 'stage');
  const canvas = el('canvas', 'map-canvas');
  canvas.tabIndex = 0;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', 'IOVA to physical address map; arrow keys pan, + and - zoom, 0 fits');
  const tooltip = el('div', 'tooltip');
  tooltip.setAttribute('role', 'tooltip');
  tooltip.hidden = true;
  stage.append(canvas, tooltip);

  const legend = el('div', 'legend');
  for (const [cls, text] of [['sw-block', 'mapping (colour = buffer or device)'], ['sw-exposed', 'exposed beyond the buffer'],
    ['sw-stale', 'stale IOTLB entry'], ['sw-fault', 'fault'], ['sw-bounce', 'swiotlb bounce slot'],
    ['sw-reserved', 'reserved IOVA'], ['sw-outside', 'outside aperture / DRAM']] as const) {
    const item = el('span', 'legend-item');
    item.append(el('span', `swatch ${cls}`), document.createTextNode(text));
    legend.append(item);
  }

  const walkPanel = el('section', 'walk-panel');
  walkPanel.setAttribute('aria-label', 'Page-table walk');

  const stats = el('div', 'visually-hidden');
  stats.dataset.testid = 'map-stats';
  const summary = el('p', 'visually-hidden');
  summary.setAttribute('aria-live', 'polite');
  stats.append(summary);

  root.append(toolbar, status, problems, message, stage, legend, walkPanel, stats);
  host.append(root);
  const dom: MapDom = { root, domain, colorBy, zoomOut, zoomIn, fit, mapped, follow, walkField, walkButton, status, problems, message, stage,
    canvas, tooltip, walkPanel, stats, summary };
  clearWalk(dom);
  return dom;
}

export function setDomains(dom: MapDom, domains: MapDomainSummary[], selected: string | null): void {
  const key = domains.map(d => `${d.id}:${d.mappings}`).join('|');
  if (dom.domain.dataset.key !== key) {
    dom.domain.replaceChildren(...domains.map(d => option(d.id,
      `${d.id} · ${d.type} · ${d.iommu}${d.devices.length ? ` · ${d.devices.join(', ')}` : ''} (${d.mappings})`)));
    dom.domain.dataset.key = key;
  }
  if (selected !== null && dom.domain.value !== selected) dom.domain.value = selected;
}

export function showTooltip(dom: MapDom, d: Description, x: number, y: number): void {
  const t = dom.tooltip;
  const rows = el('table');
  for (const [k, v] of d.rows) {
    const tr = el('tr');
    tr.append(el('th', undefined, k), el('td', undefined, v));
    rows.append(tr);
  }
  const kids: HTMLElement[] = [el('div', 'tt-title', d.title), rows];
  for (const w of d.warnings) kids.push(el('div', 'tt-warning', w));
  if (d.hint) kids.push(el('div', 'tt-hint', d.hint));
  t.replaceChildren(...kids);
  t.hidden = false;
  // Beside the pointer, on the side with more room, so the block under it and its links stay visible.
  const stage = dom.stage.getBoundingClientRect();
  const w = t.offsetWidth;
  const h = t.offsetHeight;
  const left = x > stage.width / 2 ? Math.max(0, x - 18 - w) : Math.min(x + 18, Math.max(0, stage.width - w));
  const top = Math.max(0, Math.min(y - 20, stage.height - h));
  t.style.left = `${left}px`;
  t.style.top = `${top}px`;
}

export function hideTooltip(dom: MapDom): void {
  dom.tooltip.hidden = true;
}

export function clearWalk(dom: MapDom): void {
  dom.walkPanel.replaceChildren(el('h3', undefined, 'Page-table walk'), el('p', 'hint', 'Click a mapping or enter an IOVA and press Walk.'));
}

export function showWalk(dom: MapDom, iova: number, digits: number, result: { levels?: WalkLevel[]; error?: string } | 'pending'): void {
  const p = dom.walkPanel;
  const title = el('h3', undefined, `Page-table walk for IOVA ${hexAddr(iova, digits)}`);
  if (result === 'pending') {
    p.replaceChildren(title, el('p', 'hint', 'walking…'));
    return;
  }
  if (result.error !== undefined || !result.levels) {
    p.replaceChildren(title, el('p', 'walk-error', result.error ?? 'no walk result'));
    return;
  }
  const table = el('table', 'walk-table');
  const head = el('tr');
  for (const h of ['level', 'index', 'table (PA)', 'raw PTE', 'outcome']) head.append(el('th', undefined, h));
  table.append(head);
  for (const l of result.levels) {
    const tr = el('tr', `outcome-${l.outcome}`);
    tr.append(el('td', undefined, String(l.level)), el('td', undefined, `${l.index} (0x${l.index.toString(16)})`),
      el('td', 'mono', hexAddr(l.table, 9)), el('td', 'mono', l.raw), el('td', undefined, l.outcome));
    table.append(tr);
  }
  const last = result.levels[result.levels.length - 1];
  const verdict = !last ? 'the walk read no table' : last.outcome === 'leaf' ? 'translates (leaf found)'
    : last.outcome === 'invalid' ? `translation fault: invalid entry at level ${last.level}` : 'walk stopped at a table entry';
  p.replaceChildren(title, table, el('p', last?.outcome === 'invalid' ? 'walk-error' : 'hint', verdict));
}
