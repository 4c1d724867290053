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
  /** where task, ts and body are in the text classified: text[start, end) */
  taskStart: number;
  taskEnd: number;
  tsStart: number;
  tsEnd: number;
  bodyStart: number;
  bodyEnd: number;
}
export function newEventLine(): EventLine {
  return {
    kind: 'event', task: '', pid: 0, cpu: 0, ts: '', name: '', body: '', bodyCol: 0,
    taskStart: 0, taskEnd: 0, tsStart: 0, tsEnd: 0, bodyStart: 0, bodyEnd: 0,
  };
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

const SPACE = 32, TAB = 9, COLON = 58;
const CONTEXT_WINDOW = 160;
function isSpace(c: number): boolean { return c === SPACE || c === TAB; }
function isDigit(c: number): boolean { return c >= 48 && c <= 57; }
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95;
}

/** Whether text[from, to) is `s` (a character loop: cheaper than startsWith for the short names here). */
function sameText(text: string, from: number, to: number, s: string): boolean {
  if (s.length !== to - from) return false;
  for (let k = 0; k < s.length; k++) if (text.charCodeAt(from + k) !== s.charCodeAt(k)) return false;
  return true;
}

/**
 * A copy of a piece of a trace that does not keep the whole trace alive: a short piece is copied by slice()
 * itself, a longer one is a view into its text until flattened (the caches here outlive an import).
 */
export function detached(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** Task names repeat on every line: the last one seen for each pid is reused when the text matches. */
const taskByPid = new Map<number, string>();
function taskName(text: string, from: number, to: number, pid: number): string {
  const have = taskByPid.get(pid);
  if (have !== undefined && sameText(text, from, to, have)) return have;
  const t = detached(text.slice(from, to));
  if (taskByPid.size > 65536) taskByPid.clear();
  taskByPid.set(pid, t);
  return t;
}

/**
 * Event names seen so far, by a hash of their text, so a known name costs no new string. Seeded with the
 * names the importer handles: those are then the very literals its switch compares against.
 */
const NAME_SLOTS = 1024;
const namesByHash: Array<string[] | undefined> = new Array(NAME_SLOTS).fill(undefined);
let namesKnown = 0;
function nameHash(text: string, from: number, to: number): number {
  let h = 0;
  for (let k = from; k < to; k++) h = (Math.imul(h, 31) + text.charCodeAt(k)) | 0;
  return h;
}
function knowName(n: string, h = nameHash(n, 0, n.length)): void {
  const slot = h & (NAME_SLOTS - 1);
  const bucket = namesByHash[slot];
  if (bucket) bucket.push(n);
  else namesByHash[slot] = [n];
  namesKnown++;
}
for (const n of ['add_device_to_group', 'remove_device_from_group', 'attach_device_to_domain', 'detach_device_from_domain',
  'map', 'unmap', 'io_page_fault', 'dma_map_phys', 'dma_unmap_phys', 'dma_map_page', 'dma_unmap_page', 'dma_map_sg',
  'dma_unmap_sg', 'dma_alloc', 'dma_free', 'kernel_stack', 'user_stack']) knowName(n);
function eventName(text: string, from: number, to: number, h: number): string {
  const bucket = namesByHash[h & (NAME_SLOTS - 1)];
  if (bucket) for (const n of bucket) if (sameText(text, from, to, n)) return n;
  const n = detached(text.slice(from, to));
  if (namesKnown < 4096) knowName(n, h);
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

/** Whether a line starting with c0 at text[i] may be a header line (tested with the regexes then). */
function mayBeHeader(text: string, i: number, c0: number): boolean {
  switch (c0) {
    case 67: return text.startsWith('CPU', i);                                            // C
    case 99: return text.startsWith('cpus=', i);                                          // c
    case 118: return text.startsWith('version = ', i);                                    // v
    case 116: return text.startsWith('tracer:', i) || text.startsWith('trace-cmd: ', i);  // t
    default: return false;
  }
}

/**
 * Classifies one line, text[from, to), without copying it. The context columns are scanned without
 * backtracking: COMM-PID, optional (TGID), [CPU], optional irq-info flags, TIMESTAMP, ":". COMM may hold
 * spaces and dashes; the CPU bracket anchors the parse, and lies within the first CONTEXT_WINDOW
 * characters (COMM is at most 15 characters).
 * With `scratch` (the importer's hot path) an event line is written into it and its task, ts and body
 * strings are left unset: the caller reads them from the text (eventTask()) for the events it keeps.
 */
export function classifyRange(text: string, from: number, to: number, scratch?: EventLine): TraceLine {
  let i = from;
  while (i < to && isSpace(text.charCodeAt(i))) i++;
  if (i === to) return { kind: 'quiet', blank: true };
  const c0 = text.charCodeAt(i);
  if (c0 === 35 /* # */) return { kind: 'quiet', format: text.slice(i, to).includes('tracer:') ? 'ftrace' : undefined };
  if (c0 === 61 /* = */ && text.charCodeAt(i + 1) === 62 /* > */) return parseFrame(text.slice(from, to), i + 2 - from);
  if (mayBeHeader(text, i, c0)) {
    const line = text.slice(i, to);
    if (line.startsWith('tracer:')) return { kind: 'quiet', format: 'ftrace' };
    const m = LOST.exec(line);
    if (m) return { kind: 'lost', cpu: Number(m[1]), count: Number(m[2]) };
    if (TRACE_CMD_HEADER.test(line)) return { kind: 'quiet', format: 'trace-cmd' };
  }
  const slot = contextSlot(i - from, c0);
  const known = knownContext(text, from, slot);
  if (known) {
    const r = parseRest(text, from, i, from + known.dash, known.pid, known.cpu, from + known.close, to, scratch, known.task);
    if (r) return r;
  }
  const limit = Math.min(to - 1, i + CONTEXT_WINDOW);
  let tried = 0;
  for (let open = i; open < limit; open++) {
    // each " [" in the window, in order: the first that opens a valid context wins
    if (text.charCodeAt(open) !== SPACE || text.charCodeAt(open + 1) !== 91 /* [ */) continue;
    let close = open + 2;
    while (close < to && close - open < 12 && isDigit(text.charCodeAt(close))) close++;
    if (text.charCodeAt(close) !== 93 /* ] */ || close >= to - 1 || !isSpace(text.charCodeAt(close + 1))) continue;
    const r = parseAround(text, from, i, open, close, to, scratch);
    if (r) {
      if (tried === 0 && r.kind === 'event') rememberContext(text, from, close, r, slot);
      return r;
    }
    tried++;
  }
  return { kind: 'bad', offset: i - from, reason: NOT_A_TRACE_LINE };
}

/**
 * Context columns seen before: lines of one task on one CPU start with the same text up to the CPU bracket
 * ("   kworker/u16:3-211     [002] "), so a line starting with a remembered prefix has that prefix's
 * task, pid and CPU, and its parse resumes after the bracket. Only a prefix whose bracket was the first
 * candidate of its line is remembered: the full scan of a line starting with it would have tried that
 * bracket first too (and a line whose rest does not parse goes through the full scan).
 */
interface KnownContext { prefix: string; dash: number; close: number; pid: number; cpu: number; task: string }
const CONTEXT_SLOTS = 256;
const knownContexts: Array<KnownContext | undefined> = new Array(2 * CONTEXT_SLOTS).fill(undefined);
/** Two slots per (indent, first character) pair. */
function contextSlot(indent: number, c0: number): number {
  return ((indent * 31 + c0) & (CONTEXT_SLOTS - 1)) * 2;
}
function knownContext(text: string, from: number, slot: number): KnownContext | undefined {
  for (let k = slot; k < slot + 2; k++) {
    const c = knownContexts[k];
    if (c !== undefined && text.startsWith(c.prefix, from)) return c;
  }
  return undefined;
}
function rememberContext(text: string, from: number, close: number, ev: EventLine, slot: number): void {
  knownContexts[slot + 1] = knownContexts[slot];
  knownContexts[slot] = {
    prefix: detached(text.slice(from, close + 2)), dash: ev.taskEnd - from, close: close - from, pid: ev.pid, cpu: ev.cpu,
    task: eventTask(text, ev),
  };
}

export function classifyLine(line: string): TraceLine {
  return classifyRange(line, 0, line.length);
}

/** The task name of an event line classified into a scratch record. */
export function eventTask(text: string, ev: EventLine): string {
  return ev.task !== '' ? ev.task : taskName(text, ev.taskStart, ev.taskEnd, ev.pid);
}

/** Fills task, ts and body of an event line classified into a scratch record. */
function eventStrings(text: string, ev: EventLine): void {
  ev.task = eventTask(text, ev);
  ev.ts = text.slice(ev.tsStart, ev.tsEnd);
  ev.body = text.slice(ev.bodyStart, ev.bodyEnd);
}

/**
 * End of the token at text[i]: up to a space, a tab, ':' or `to`. `tokenIsTimestamp` tells whether it
 * reads `4.878076` (seconds.microseconds) or a raw counter `123456789`.
 */
let tokenIsTimestamp = false;
function tokenEnd(text: string, i: number, to: number): number {
  const start = i;
  let dotAt = -1;
  let ok = true;
  for (; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === TAB || c === COLON) break;
    if (c === 46 /* . */ && dotAt < 0) dotAt = i;
    else if (!isDigit(c)) ok = false;
  }
  tokenIsTimestamp = ok && i > start && (dotAt < 0 || (dotAt > start && dotAt < i - 1));
  return i;
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
  return parseRest(text, lineStart, start, dash, pid, cpu, close, to, scratch, '');
}

/** Right of the bracket: [FLAGS] TIMESTAMP: EVENT: BODY. `task` is the task's name when known ('': not yet). */
function parseRest(text: string, lineStart: number, start: number, dash: number, pid: number, cpu: number, close: number, to: number,
  scratch: EventLine | undefined, task: string): TraceLine | null {
  let i = close + 1;
  while (i < to && isSpace(text.charCodeAt(i))) i++;
  let tok = i;
  i = tokenEnd(text, i, to);
  if (i < to && isSpace(text.charCodeAt(i))) {
    if (i - tok < 4 || i - tok > 6) return null;          // irq-info flags: "d..2." and the like
    while (i < to && isSpace(text.charCodeAt(i))) i++;
    tok = i;
    i = tokenEnd(text, i, to);
  }
  if (i >= to || text.charCodeAt(i) !== COLON || !tokenIsTimestamp) return null;
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
  let h = 0;
  for (; j < to; j++) {
    const c = text.charCodeAt(j);
    if (!isNameChar(c)) break;
    h = (Math.imul(h, 31) + c) | 0;
  }
  if (j === after || j >= to || text.charCodeAt(j) !== COLON) {
    return { kind: 'bad', offset: j - lineStart, reason: j >= to ? 'line ends before the event name' : 'expected "EVENT: " after the timestamp' };
  }
  const name = eventName(text, after, j, h);              // h is nameHash(text, after, j)
  let b = j + 1;
  while (b < to && text.charCodeAt(b) === SPACE) b++;   // trace-cmd pads the name column
  if (name === 'kernel_stack' || name === 'user_stack') {
    return { kind: 'stack-start', pid, cpu, user: name === 'user_stack' };
  }
  const ev = scratch ?? newEventLine();
  ev.task = task;
  ev.pid = pid;
  ev.cpu = cpu;
  ev.name = name;
  ev.bodyCol = b - lineStart;
  ev.taskStart = start;
  ev.taskEnd = dash;
  ev.tsStart = tok;
  ev.tsEnd = tsEnd;
  ev.bodyStart = b;
  ev.bodyEnd = to;
  if (!scratch) eventStrings(text, ev);
  return ev;
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
