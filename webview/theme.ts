// Colours and fonts of the map, read from the VS Code theme (the --vscode-* CSS variables VS Code sets on
// the webview's <html>), with the Dark Modern values as fallbacks for the standalone harness.

export interface Theme {
  kind: 'dark' | 'light' | 'high-contrast' | 'high-contrast-light';
  background: string;
  foreground: string;
  muted: string;
  border: string;
  grid: string;
  /** shading of addresses outside the aperture / outside DRAM */
  outside: string;
  reserved: string;
  exposure: string;
  fault: string;
  stale: string;
  bounce: string;
  focus: string;
  /** colours for buffers / devices; never red (exposure, faults) or yellow (stale) */
  palette: string[];
  font: string;
  monoFont: string;
  fontSize: number;
}

type Rgb = [number, number, number];

/** Normalises any CSS colour through a canvas context ("#rrggbb" or "rgba(...)"). */
function toRgb(ctx: CanvasRenderingContext2D, css: string, fallback: Rgb): Rgb {
  ctx.fillStyle = '#010203';
  ctx.fillStyle = css;
  const v = String(ctx.fillStyle);
  if (v === '#010203' && css.trim().toLowerCase() !== '#010203') return fallback;
  const hexm = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(v);
  if (hexm) return [parseInt(hexm[1], 16), parseInt(hexm[2], 16), parseInt(hexm[3], 16)];
  const rgba = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(v);
  return rgba ? [Number(rgba[1]), Number(rgba[2]), Number(rgba[3])] : fallback;
}

const css = ([r, g, b]: Rgb, a = 1): string => (a >= 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${a})`);

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [0, 1, 2].map(i => Math.round(a[i] + (b[i] - a[i]) * t)) as Rgb;
}

/** Colour with an alpha, for any colour string this module produced. */
export function withAlpha(color: string, alpha: number): string {
  const m = /^rgba?\((\d+),(\d+),(\d+)/.exec(color.replace(/\s/g, ''));
  return m ? `rgba(${m[1]},${m[2]},${m[3]},${alpha})` : color;
}

const FALLBACK: Record<string, Rgb> = {
  bg: [31, 31, 31], fg: [204, 204, 204], muted: [157, 157, 157], border: [60, 60, 60], focus: [0, 120, 212],
  red: [241, 76, 76], yellow: [204, 167, 0], orange: [209, 134, 22], blue: [55, 148, 255], green: [137, 209, 133],
  purple: [179, 128, 255], cyan: [41, 184, 219], brightGreen: [35, 209, 139], magenta: [214, 112, 214], brightBlue: [59, 142, 234], teal: [78, 201, 176],
};

export function readTheme(root: HTMLElement, body: HTMLElement): Theme {
  const style = getComputedStyle(root);
  const scratch = document.createElement('canvas').getContext('2d');
  const cls = body.classList;
  const kind: Theme['kind'] = cls.contains('vscode-high-contrast-light') ? 'high-contrast-light'
    : cls.contains('vscode-high-contrast') ? 'high-contrast' : cls.contains('vscode-light') ? 'light' : 'dark';
  const light = kind === 'light' || kind === 'high-contrast-light';
  const v = (names: string[], fallback: Rgb): Rgb => {
    for (const n of names) {
      const val = style.getPropertyValue(n).trim();
      if (val && scratch) return toRgb(scratch, val, fallback);
    }
    return fallback;
  };
  const bg = v(['--vscode-editor-background'], light ? [255, 255, 255] : FALLBACK.bg);
  const fg = v(['--vscode-editor-foreground', '--vscode-foreground'], light ? [59, 59, 59] : FALLBACK.fg);
  const muted = v(['--vscode-descriptionForeground'], light ? [113, 113, 113] : FALLBACK.muted);
  const paletteBase = [
    v(['--vscode-charts-blue'], FALLBACK.blue),
    v(['--vscode-charts-green'], FALLBACK.green),
    v(['--vscode-charts-purple'], FALLBACK.purple),
    v(['--vscode-terminal-ansiCyan'], FALLBACK.cyan),
    v(['--vscode-terminal-ansiMagenta'], FALLBACK.magenta),
    v(['--vscode-terminal-ansiBrightBlue'], FALLBACK.brightBlue),
    v(['--vscode-terminal-ansiBrightGreen'], FALLBACK.brightGreen),
    v(['--vscode-terminal-ansiGreen'], FALLBACK.teal),
  ];
  // Fills sit on the background: pull each towards it a little so text on blocks stays readable, and add a
  // second, paler row so neighbouring buffers still differ when many are visible.
  const palette = [
    ...paletteBase.map(c => css(mix(c, bg, light ? 0.15 : 0.25))),
    ...paletteBase.map(c => css(mix(c, bg, light ? 0.5 : 0.55))),
  ];
  return {
    kind,
    background: css(bg),
    foreground: css(fg),
    muted: css(muted),
    border: css(v(['--vscode-panel-border', '--vscode-widget-border', '--vscode-editorWidget-border'], FALLBACK.border)),
    grid: css(fg, light ? 0.16 : 0.14),
    outside: css(fg, light ? 0.07 : 0.06),
    reserved: css(muted, 0.55),
    exposure: css(v(['--vscode-charts-red', '--vscode-errorForeground'], FALLBACK.red)),
    fault: css(v(['--vscode-editorError-foreground', '--vscode-errorForeground'], FALLBACK.red)),
    stale: css(v(['--vscode-editorWarning-foreground', '--vscode-charts-yellow'], FALLBACK.yellow)),
    bounce: css(v(['--vscode-charts-orange'], FALLBACK.orange)),
    focus: css(v(['--vscode-focusBorder'], FALLBACK.focus)),
    palette,
    font: style.getPropertyValue('--vscode-font-family').trim() || 'system-ui, sans-serif',
    monoFont: style.getPropertyValue('--vscode-editor-font-family').trim() || 'monospace',
    fontSize: parseFloat(style.getPropertyValue('--vscode-font-size')) || 13,
  };
}

/** Text colour that reads on a fill: dark on light fills, light on dark ones. */
export function textOn(fill: string): string {
  const m = /^rgba?\((\d+),(\d+),(\d+)/.exec(fill.replace(/\s/g, ''));
  if (!m) return '#000';
  const lum = 0.2126 * Number(m[1]) + 0.7152 * Number(m[2]) + 0.0722 * Number(m[3]);
  return lum > 140 ? 'rgb(20,20,20)' : 'rgb(245,245,245)';
}
