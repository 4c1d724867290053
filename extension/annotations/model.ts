// Pure part of the source annotations (no vscode): folding editor changes into one edit for the analyzer,
// the inline text per line, the hover's Markdown, the CodeLens titles. Unit-tested in test/unit.
import type { TextChange } from '../../simulator/analysis/analyzer';
import type { Binding, BoundInvocation, CallOutcome, Consequence, FunctionOutcome } from '../../simulator/analysis/bind-types';
import type { Severity, SourceFinding } from '../../simulator/analysis/types';
import { sizeLabel } from '../../simulator/core/format';
import type { ReportEvent } from '../../simulator/report/types';

/** One edit, in the coordinates of the text last analysed, covering every change made since. */
export interface Envelope { start: number; oldEnd: number; newEnd: number }

/**
 * Folds one VS Code content change (offsets into the text as it was just before it) into the envelope of
 * the changes before it: the text before `start` and after `oldEnd` (old) / `newEnd` (new) is untouched.
 */
export function foldChange(env: Envelope | null, c: TextChange): Envelope {
  const end = c.rangeOffset + c.rangeLength;
  const delta = c.text.length - c.rangeLength;
  if (!env) return { start: c.rangeOffset, oldEnd: end, newEnd: end + delta };
  const start = Math.min(env.start, c.rangeOffset);
  const oldEnd = env.oldEnd + Math.max(0, end - env.newEnd);
  const newEnd = Math.max(env.newEnd, end) + delta;
  return { start, oldEnd, newEnd };
}

/** The single change CAnalyzer.update() needs, from the envelope and the current text. */
export function envelopeChange(env: Envelope, text: string): TextChange {
  return { rangeOffset: env.start, rangeLength: env.oldEnd - env.start, text: text.slice(env.start, env.newEnd) };
}

export interface InlineItem {
  /** 1-based line the text follows (the last line of the call) */
  line: number;
  severity: Severity;
  text: string;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/** The after-the-line text of every bound call; calls sharing a line share one item, named by their API. */
export function inlineItems(binding: Binding | null): InlineItem[] {
  if (!binding) return [];
  const byLine = new Map<number, CallOutcome[]>();
  for (const c of binding.calls) {
    const line = c.call.range.end.line;
    const list = byLine.get(line);
    if (list) list.push(c); else byLine.set(line, [c]);
  }
  return [...byLine].sort((a, b) => a[0] - b[0]).map(([line, calls]) => ({
    line,
    severity: calls.reduce<Severity>((s, c) => (RANK[c.severity] > RANK[s] ? c.severity : s), 'info'),
    text: calls.length === 1 ? calls[0].text : calls.map(c => `${c.call.api} ${c.text}`).join('  ‖  '),
  }));
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** "3 calls · 1 fault · 2 findings"; null when there is nothing to say about the function. */
export function lensTitle(f: FunctionOutcome, runLoaded: boolean): string | null {
  const findings = f.simFindings + f.reviewFindings;
  const parts: string[] = [];
  if (runLoaded) parts.push(plural(f.calls, 'call'));
  if (f.faults) parts.push(plural(f.faults, 'fault'));
  if (findings) parts.push(plural(findings, 'finding'));
  if (!f.calls && !f.faults && !findings) return null;
  return parts.join(' · ');
}

/** Markdown-safe inline code. */
export function code(text: string): string {
  const t = text.replace(/\n/g, ' ');
  return t.includes('`') ? `\`\` ${t} \`\`` : `\`${t}\``;
}

/** Escapes Markdown in running text. */
export function md(text: string): string {
  return text.replace(/[\\`*_{}[\]<>()#+!|]/g, '\\$&');
}

function argValue(v: unknown): string {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.id === 'string') return o.id;
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return v.every(x => typeof x === 'string') ? v.join('|') : JSON.stringify(v);
  return String(v);
}

/** `iommu_map(domain=d2, iova=0x10000, paddr=0x80000c000, size=4096, prot=read|write)` */
export function callText(i: BoundInvocation): string {
  const args = Object.entries(i.args).map(([k, v]) => (k === '' ? argValue(v) : `${k}=${argValue(v)}`));
  return `${i.name}(${args.join(', ')})`;
}

/** Lines an event contributes to the hover's kernel-log block: tracepoints, printk, findings, faults. */
export function eventLines(events: ReportEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.kind === 'tracepoint') out.push(`${String(e.name)}: ${String(e.text)}`);
    else if (e.kind === 'printk') out.push(`${e.dev ? `${String(e.dev)}: ` : ''}${String(e.text)}`);
    else if (e.kind === 'fault') out.push(`fault: ${String(e.message)}`);
    else if (e.kind === 'finding' && e.finding && typeof e.finding === 'object') {
      const f = e.finding as { code?: string; message?: string };
      out.push(`finding [${f.code}]: ${f.message}`);
    }
  }
  return out;
}

/** How many invocations a hover lists before it says how many more there are. */
export const HOVER_MAX_INVOCATIONS = 12;

export function callHoverMarkdown(c: CallOutcome): string {
  const n = c.invocations.length;
  const site = c.invocations[0] ? ` · site ${code(c.invocations[0].site)}` : '';
  const lines = [`**${c.call.api}** — ${plural(n, 'call')} in this run${site}`];
  for (const i of c.invocations.slice(0, HOVER_MAX_INVOCATIONS)) {
    const s = i.summary;
    const facts = [
      s.address ? `${i.name.startsWith('dma_') ? 'dma' : 'iova'} ${s.address}` : '',
      s.asked !== undefined ? `asked ${sizeLabel(s.asked)}` : '',
      s.mapped !== undefined ? `${/unmap|free/.test(i.name) ? 'unmapped' : 'mapped'} ${sizeLabel(s.mapped)}` : '',
      s.exposed ? `${sizeLabel(s.exposed)} exposed` : '',
      s.faults ? plural(s.faults, 'fault') : '',
    ].filter(Boolean).join(' · ');
    const where = `**step ${i.step}**${i.scenarioLine ? ` (scenario line ${i.scenarioLine})` : ''}`;
    lines.push('', `${where} → **${md(s.result)}**${facts ? ` · ${md(facts)}` : ''}`);
    // the call as made, then what the kernel printed and traced while making it
    const log = [i.source === 'trace' ? `(traced) ${i.name}` : callText(i), ...eventLines(i.events)];
    const shown = log.slice(0, 20);
    if (log.length > shown.length) shown.push(`… ${log.length - shown.length} more lines`);
    lines.push('```text', ...shown, '```');
  }
  if (n > HOVER_MAX_INVOCATIONS) lines.push('', `… ${n - HOVER_MAX_INVOCATIONS} more calls`);
  return lines.join('\n');
}

/** "simulated on P: TEXT", or "simulated: on P ..." when the text names the platform itself. */
export function consequenceLine(text: string, platform: string | null): string {
  return platform && !text.startsWith(`on ${platform} `) ? `simulated on ${platform}: ${text}` : `simulated: ${text}`;
}

export function findingHoverMarkdown(f: SourceFinding, consequence: Consequence | null, platform: string | null): string {
  const lines = [`**${md(f.code)}** (${f.severity}${f.confidence === 'low' ? ', low confidence: inside code that could not be parsed' : ''}): ${md(f.message)}`, '', md(f.explain)];
  if (consequence) {
    const [head, ...rest] = consequenceLine(consequence.text, platform).split(': ');
    lines.push('', `*${md(head[0].toUpperCase() + head.slice(1))}:* ${md(rest.join(': '))}`);
  }
  if (f.fixes.length) lines.push('', `Quick fix: ${f.fixes.map(x => md(x.title)).join('; ')}`);
  return lines.join('\n');
}
