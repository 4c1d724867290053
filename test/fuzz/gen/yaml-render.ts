// A tiny document tree for generated scenario files, rendered as block YAML, flow YAML or JSON. Scalars keep
// the exact text to write (`0x4000`, `16K`, `"$buf.dma + 0x1000"`), so the generator decides what the user
// typed, including the wrong things.

export type Doc =
  | { k: 'raw'; text: string }            // written exactly as given, even where YAML reads it otherwise
  | { k: 'plain'; text: string }          // written as is when YAML allows it, quoted otherwise
  | { k: 'str'; text: string }            // always quoted
  | { k: 'seq'; items: Doc[] }
  | { k: 'map'; entries: Array<[string, Doc]> };

export const plain = (text: string | number | boolean): Doc => ({ k: 'plain', text: String(text) });
export const raw = (text: string): Doc => ({ k: 'raw', text });
export const str = (text: string): Doc => ({ k: 'str', text });
export const seq = (items: Doc[]): Doc => ({ k: 'seq', items });
export const map = (entries: Array<[string, Doc]>): Doc => ({ k: 'map', entries });

export type Style = 'block' | 'flow-args' | 'flow' | 'json';

/** Text YAML reads back as the same plain scalar (conservative: anything doubtful is quoted). */
function plainOk(t: string): boolean {
  return t === '' ? false : /^[A-Za-z0-9_$.+\-/][A-Za-z0-9_$.+\-/ ()[\]]*$/.test(t) && !/[[\]]/.test(t) && !/ $/.test(t)
    && !/^[-?:](\s|$)/.test(t) && !/ #/.test(t);
}

function quote(t: string): string {
  return JSON.stringify(t);
}

function scalar(d: Doc & { k: 'plain' | 'str' | 'raw' }, json: boolean): string {
  if (d.k === 'raw') return d.text;
  if (json) return d.k === 'plain' && /^-?(0|[1-9][0-9]{0,15})$|^(true|false|null)$/.test(d.text) ? d.text : quote(d.text);
  return d.k === 'plain' && plainOk(d.text) ? d.text : quote(d.text);
}

function keyText(key: string, json: boolean): string {
  return json || !/^[A-Za-z_$][\w.$-]*$/.test(key) ? quote(key) : key;
}

function flow(d: Doc, json: boolean): string {
  switch (d.k) {
    case 'plain': case 'str': case 'raw': return scalar(d, json);
    case 'seq': return `[${d.items.map(x => flow(x, json)).join(', ')}]`;
    case 'map': return `{${d.entries.map(([k, v]) => `${keyText(k, json)}: ${flow(v, json)}`).join(', ')}}`;
  }
}

function block(d: Doc, indent: number, out: string[], style: Style, depth: number): void {
  const pad = ' '.repeat(indent);
  const inline = (v: Doc) => v.k === 'plain' || v.k === 'str' || v.k === 'raw' || (style !== 'block' && depth >= 2) ||
    (v.k === 'seq' && v.items.length === 0) || (v.k === 'map' && v.entries.length === 0);
  if (d.k === 'map') {
    for (const [k, v] of d.entries) {
      if (inline(v)) out.push(`${pad}${keyText(k, false)}: ${flow(v, false)}`);
      else {
        out.push(`${pad}${keyText(k, false)}:`);
        block(v, indent + 2, out, style, depth + 1);
      }
    }
  } else if (d.k === 'seq') {
    for (const v of d.items) {
      if (inline(v)) out.push(`${pad}- ${flow(v, false)}`);
      else if (v.k === 'map') {
        // first entry on the dash line, the rest under it
        const inner: string[] = [];
        block(v, indent + 2, inner, style, depth + 1);
        out.push(`${pad}- ${inner[0].slice(indent + 2)}`, ...inner.slice(1));
      } else {
        out.push(`${pad}-`);
        block(v, indent + 2, out, style, depth + 1);
      }
    }
  } else out.push(pad + scalar(d, false));
}

/** The document as text: block YAML (args in flow style for 'flow-args'), one flow line, or JSON. */
export function render(d: Doc, style: Style): string {
  if (style === 'json') return flow(d, true) + '\n';
  if (style === 'flow') return flow(d, false) + '\n';
  const out: string[] = [];
  block(d, 0, out, style, 0);
  return out.join('\n') + '\n';
}
