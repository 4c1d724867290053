// One line of a kernel trace, classified. Accepts /sys/kernel/tracing/trace (and trace_pipe) output with
// or without the irq-info and TGID columns, and `trace-cmd report` output with its header lines.
//   ftrace:    `   (udev-worker)-532     (    532) [010] ..... 4.878076: map: IOMMU: …`
//   trace-cmd: `   (udev-worker)-532   [010]  4.878076: map:                  IOMMU: …`
// Stack traces (`echo stacktrace > trace_options`, `trace-cmd record -T`) follow their event as a
// `<stack trace>` / `kernel_stack:` line and ` => function+0x1c/0x40 [module]` frames.

export interface EventLine {
  kind: 'event';
  task: string;             // comm as printed ("<...>" when the kernel lost it)
  pid: number;
  cpu: number;
  ts: string;               // timestamp as printed
  name: string;             // tracepoint name
  body: string;             // text after "name: "
  bodyCol: number;          // 0-based offset of body in the line
}
export function newEventLine(): EventLine {
  return { kind: 'event', task: '', pid: 0, cpu: 0, ts: '', name: '', body: '', bodyCol: 0 };
}
export interface StackStartLine { kind: 'stack-start'; pid: number; cpu: number; user: boolean }
export interface FrameLine { kind: 'frame'; frame: StackFrame }
export interface LostLine { kind: 'lost'; cpu: number; count: number }
export interface QuietLine { kind: 'quiet'; format?: 'ftrace' | 'trace-cmd'; blank?: boolean }   // blank, comment, header
export interface BadLine { kind: 'bad'; offset: number; reason: string }
export type TraceLine = EventLine | StackStartLine | FrameLine | LostLine | QuietLine | BadLine;

export interface StackFrame {
  fn: string;               // symbol as printed, suffixes like .isra.0 kept; "0xffff…" when unresolved
  offset?: number;
  size?: number;
  module?: string;
  addr?: string;            // address printed by sym-addr or trace-cmd: "ffffffff8123abcd"
}

const LOST = /^CPU:(\d+) \[LOST (\d+) EVENTS\]\s*$/;
const TRACE_CMD_HEADER = /^(?:version = \d+|CPU \d+ is empty|cpus=\d+|trace-cmd: .*)\s*$/;
const NOT_A_TRACE_LINE = 'not a trace line (expected "TASK-PID [CPU] … TIMESTAMP: EVENT: …")';

const SPACE = 32, TAB = 9;
const CONTEXT_WINDOW = 160;
function isSpace(c: number): boolean { return c === SPACE || c === TAB; }
function isDigit(c: number): boolean { return c >= 48 && c <= 57; }
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95;
}

/** Task names repeat on every line: the last one seen for each pid is reused when the text matches. */
const taskByPid = new Map<number, string>();
function taskName(text: string, from: number, to: number, pid: number): string {
  const have = taskByPid.get(pid);
  if (have !== undefined && have.length === to - from && text.startsWith(have, from)) return have;
  const t = text.slice(from, to);
  if (taskByPid.size > 65536) taskByPid.clear();
  taskByPid.set(pid, t);
  return t;
}

/**
 * Event names seen so far, by length, so a known name costs no new string. Seeded with the names the
 * importer handles: those are then the very literals its switch compares against.
 */
const namesByLength: string[][] = [];
for (const n of ['add_device_to_group', 'remove_device_from_group', 'attach_device_to_domain', 'detach_device_from_domain',
  'map', 'unmap', 'io_page_fault', 'dma_map_phys', 'dma_unmap_phys', 'dma_map_page', 'dma_unmap_page', 'dma_map_sg',
  'dma_unmap_sg', 'dma_alloc', 'dma_free', 'kernel_stack', 'user_stack']) (namesByLength[n.length] ??= []).push(n);
function eventName(text: string, from: number, to: number): string {
  const bucket = (namesByLength[to - from] ??= []);
  for (const n of bucket) if (text.startsWith(n, from)) return n;
  const n = text.slice(from, to);
  if (bucket.length < 64) bucket.push(n);
  return n;
}

/** Digits in [from, to) as a number, or -1 if any is not a digit. */
function digitsValue(text: string, from: number, to: number): number {
  if (to <= from || to - from > 9) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** Last index of char code `c` in [from, to), or -1 (never looks outside the line). */
function lastIndexIn(text: string, c: number, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (text.charCodeAt(i) === c) return i;
  return -1;
}

/**
 * Parses one line, text[from, to), in place (no copy of the line is made). The context columns are
 * scanned without backtracking: COMM-PID, optional (TGID), [CPU], optional irq-info flags, TIMESTAMP,
 * ":". COMM may hold spaces and dashes; the CPU bracket anchors the parse, and lies within the first
 * CONTEXT_WINDOW characters (COMM is at most 15 characters).
 */
/**
 * Where the next " [" of a text is, remembered between lines: indexOf may run past the current line,
 * and remembering what it found keeps a text with few brackets from being rescanned line after line.
 */
export class BracketFinder {
  private from = 0;
  private at = -2;            // -2: nothing cached
  constructor(readonly text: string) {}
  next(i: number): number {
    if (this.at !== -2 && this.from <= i && (this.at >= i || this.at === -1)) return this.at;
    this.from = i;
    this.at = this.text.indexOf(' [', i);
    return this.at;
  }
}

export function classifyRange(text: string, from: number, to: number, scratch?: EventLine, brackets = new BracketFinder(text)): TraceLine {
  let i = from;
  while (i < to && isSpace(text.charCodeAt(i))) i++;
  if (i === to) return { kind: 'quiet', blank: true };
  const c0 = text.charCodeAt(i);
  if (c0 === 35 /* # */) return { kind: 'quiet', format: text.slice(i, to).includes('tracer:') ? 'ftrace' : undefined };
  if (c0 === 61 /* = */ && text.charCodeAt(i + 1) === 62 /* > */) return parseFrame(text.slice(from, to), i + 2 - from);
  if (c0 === 67 /* C */ || c0 === 99 /* c */ || c0 === 118 /* v */ || c0 === 116 /* t */) {
    const line = text.slice(i, to);
    if (line.startsWith('tracer:')) return { kind: 'quiet', format: 'ftrace' };
    const m = LOST.exec(line);
    if (m) return { kind: 'lost', cpu: Number(m[1]), count: Number(m[2]) };
    if (TRACE_CMD_HEADER.test(line)) return { kind: 'quiet', format: 'trace-cmd' };
  }
  const limit = Math.min(to - 1, i + CONTEXT_WINDOW);
  for (let open = brackets.next(i); open >= 0 && open < limit; open = brackets.next(open + 1)) {
    let close = open + 2;
    while (close < to && close - open < 12 && isDigit(text.charCodeAt(close))) close++;
    if (text.charCodeAt(close) !== 93 /* ] */ || close >= to - 1 || !isSpace(text.charCodeAt(close + 1))) continue;
    const r = parseAround(text, from, i, open, close, to, scratch);
    if (r) return r;
  }
  return { kind: 'bad', offset: i - from, reason: NOT_A_TRACE_LINE };
}

export function classifyLine(line: string): TraceLine {
  return classifyRange(line, 0, line.length);
}

/** An event line is written into `scratch` when given (the hot path: no object per line). */
function parseAround(text: string, lineStart: number, start: number, open: number, close: number, to: number, scratch?: EventLine): TraceLine | null {
  const cpu = digitsValue(text, open + 2, close);
  if (cpu < 0) return null;
  // left of the bracket: COMM-PID [ (TGID) ]
  let end = open;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  if (text.charCodeAt(end - 1) === 41 /* ) */) {
    const lp = lastIndexIn(text, 40 /* ( */, start, end - 1);
    if (lp <= start) return null;
    end = lp;
    while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  }
  const dash = lastIndexIn(text, 45 /* - */, start, end);
  if (dash <= start) return null;
  const pid = digitsValue(text, dash + 1, end);
  if (pid < 0) return null;
  // right of the bracket: [FLAGS] TIMESTAMP:
  let i = close + 1;
  while (i < to && isSpace(text.charCodeAt(i))) i++;
  let tok = i;
  while (i < to && !isSpace(text.charCodeAt(i)) && text.charCodeAt(i) !== 58) i++;
  if (i < to && isSpace(text.charCodeAt(i))) {
    if (i - tok < 4 || i - tok > 6) return null;          // irq-info flags: "d..2." and the like
    while (i < to && isSpace(text.charCodeAt(i))) i++;
    tok = i;
    while (i < to && text.charCodeAt(i) !== 58 && !isSpace(text.charCodeAt(i))) i++;
  }
  if (i >= to || text.charCodeAt(i) !== 58 || !isTimestamp(text, tok, i)) return null;
  const tsEnd = i;
  i++;
  if (i >= to || !isSpace(text.charCodeAt(i))) return null;
  while (i < to && isSpace(text.charCodeAt(i))) i++;
  const after = i;
  if (text.charCodeAt(after) === 60 /* < */) {
    if (text.startsWith('<stack trace>', after)) return { kind: 'stack-start', pid, cpu, user: false };
    if (text.startsWith('<user stack trace>', after)) return { kind: 'stack-start', pid, cpu, user: true };
  }
  let j = after;
  while (j < to && isNameChar(text.charCodeAt(j))) j++;
  if (j === after || j >= to || text.charCodeAt(j) !== 58 /* : */) {
    return { kind: 'bad', offset: j - lineStart, reason: j >= to ? 'line ends before the event name' : 'expected "EVENT: " after the timestamp' };
  }
  const name = eventName(text, after, j);
  let b = j + 1;
  while (b < to && text.charCodeAt(b) === SPACE) b++;   // trace-cmd pads the name column
  if (name === 'kernel_stack' || name === 'user_stack') {
    return { kind: 'stack-start', pid, cpu, user: name === 'user_stack' };
  }
  const ev = scratch ?? newEventLine();
  ev.task = taskName(text, start, dash, pid);
  ev.pid = pid;
  ev.cpu = cpu;
  ev.ts = text.slice(tok, tsEnd);
  ev.name = name;
  ev.body = text.slice(b, to);
  ev.bodyCol = b - lineStart;
  return ev;
}

/** `4.878076` (seconds.microseconds) or a raw counter `123456789`. */
function isTimestamp(text: string, from: number, to: number): boolean {
  if (to <= from) return false;
  let dot = false;
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c === 46 && !dot && k > from && k < to - 1) dot = true;
    else if (!isDigit(c)) return false;
  }
  return true;
}

/**
 * ` => SYMBOL[+0xOFF/0xSIZE][ [MODULE]][ <ADDR>]` (ftrace) or `=> SYMBOL (ADDR)` (trace-cmd).
 * Unresolved addresses print as 0x%08lx.
 */
function parseFrame(line: string, from: number): FrameLine | BadLine {
  const text = line.slice(from).trim();
  if (!text) return { kind: 'bad', offset: from, reason: 'empty stack frame after "=>"' };
  let k = 0;
  while (k < text.length && text[k] !== ' ' && text[k] !== '+') k++;
  const frame: StackFrame = { fn: text.slice(0, k) };
  let rest = text.slice(k);
  const off = /^\+0x([0-9a-f]+)\/0x([0-9a-f]+)/.exec(rest);
  if (off) {
    frame.offset = parseInt(off[1], 16);
    frame.size = parseInt(off[2], 16);
    rest = rest.slice(off[0].length);
  }
  rest = rest.trim();
  const mod = /^\[([\w-]+)\]\s*/.exec(rest);
  if (mod) { frame.module = mod[1]; rest = rest.slice(mod[0].length); }
  const addr = /^[<(]([0-9a-f]+)[>)]$/.exec(rest);
  if (addr) frame.addr = addr[1];
  else if (rest) return { kind: 'bad', offset: from, reason: `unrecognised stack frame ${JSON.stringify(text.slice(0, 60))}` };
  return { kind: 'frame', frame };
}

/**
 * Functions of the IOMMU / DMA-mapping core, IOMMU drivers, io-pgtable, IOVA allocator, swiotlb and
 * tracing: a stack's first frame outside these is the driver code that made the call.
 */
const CORE = /^_*(?:iommu|dma|iova|alloc_iova|free_iova|queue_iova|fq_|io_pgtable|arm_lpae|arm_v7s|arm_smmu|qcom_smmu|apple_dart|dart_|intel_iommu|amd_iommu|domain_mapping|swiotlb|trace|ftrace|perf_|report_iommu_fault|iopf|sg_alloc|sg_free|map_sg|ops_)/;

/** Strips compiler clones (.isra.0, .constprop.1, .part.0, .cold) so the name matches the C source. */
export function sourceName(fn: string): string {
  const dot = fn.indexOf('.');
  return dot > 0 ? fn.slice(0, dot) : fn;
}

export function isCoreFrame(fn: string): boolean {
  return CORE.test(fn) || fn.startsWith('0x') || fn.startsWith('[unknown');
}

/** The driver function a stack points at: its first frame that is not core code. */
export function siteOf(frames: StackFrame[]): string | null {
  for (const f of frames) if (!isCoreFrame(f.fn)) return sourceName(f.fn);
  return null;
}
