// Source positions for a million steps without a million objects each. A step's op position, its
// argument-key positions and its reference positions are written as numbers into one growable table;
// the SourcePos objects that StepSpec, RefExpr and ExpectSpec promise are made when someone reads them
// (in practice: when an error is reported). Loading a large file then leaves little for the GC to copy.
import type { ArgValue, ExpectSpec, RefExpr, SourcePos, StepSpec } from './types';

export class PosTable {
  private lines = new Int32Array(1024);
  private cols = new Int32Array(1024);
  private n = 0;

  constructor(readonly file: string) {}

  /** Store a position; returns its index. */
  add(line: number, col: number): number {
    if (this.n === this.lines.length) {
      const lines = new Int32Array(this.n * 2);
      const cols = new Int32Array(this.n * 2);
      lines.set(this.lines);
      cols.set(this.cols);
      this.lines = lines;
      this.cols = cols;
    }
    this.lines[this.n] = line;
    this.cols[this.n] = col;
    return this.n++;
  }

  get(i: number): SourcePos {
    return { file: this.file, line: this.lines[i], col: this.cols[i] };
  }

  /** The positions at [first, first + keys.length) as a record keyed by `keys`. */
  record(keys: readonly string[], first: number): Record<string, SourcePos> {
    const out: Record<string, SourcePos> = {};
    for (let k = 0; k < keys.length; k++) out[keys[k]] = this.get(first + k);
    return out;
  }
}

/**
 * Shared, frozen key lists: the 500,000 steps whose arguments are `dev, paddr, size, dir` all point at one
 * array. Lists are extended one key at a time through a transition table (like hidden classes).
 */
export class KeyList {
  static readonly EMPTY = new KeyList([]);
  private readonly next = new Map<string, KeyList>();

  private constructor(readonly keys: readonly string[]) {
    Object.freeze(keys);
  }

  with(key: string): KeyList {
    let k = this.next.get(key);
    if (!k) {
      k = new KeyList([...this.keys, key]);
      this.next.set(key, k);
    }
    return k;
  }
}

/** Collects one object's key positions: the first index in the table and the list of keys. */
export class KeyPositions {
  first = -1;
  list = KeyList.EMPTY;

  constructor(private readonly table: PosTable) {}

  /** Start a new object (the collector is reused from step to step). */
  reset(): this {
    this.first = -1;
    this.list = KeyList.EMPTY;
    return this;
  }

  add(key: string, line: number, col: number): void {
    const i = this.table.add(line, col);
    if (this.first < 0) this.first = i;
    this.list = this.list.with(key);
  }
}

/** What the steps with the same op and the same argument keys share: the names and the position table. */
export class StepShape {
  constructor(readonly op: string, readonly argKeys: readonly string[], readonly table: PosTable) {}
}

/** `as`, `site` and `expect` of a step that has any of them (most steps have none: they share no object). */
export interface StepMeta {
  as?: string;
  site?: string;
  expect?: ExpectSpec;
}

/**
 * A StepSpec whose `pos` and `argPos` are read from the position table. Five fields, since a million of these
 * stay in memory for the whole run: the op, key list and table come from the shared shape, the argument-key
 * positions follow the op's position in the table (the builder writes them right after it).
 */
export class LoadedStep implements StepSpec {
  constructor(
    readonly index: number,
    /** the op, the argument keys and the position table (shared with the steps of the same form) */
    readonly shape: StepShape,
    readonly args: ArgValue,
    private readonly posIndex: number,
    /** `as`, `site` and `expect`, when the step has any */
    readonly meta: StepMeta | undefined,
  ) {}

  get op(): string {
    return this.shape.op;
  }

  get as(): string | undefined {
    return this.meta?.as;
  }

  get site(): string | undefined {
    return this.meta?.site;
  }

  get expect(): ExpectSpec | undefined {
    return this.meta?.expect;
  }

  get pos(): SourcePos {
    return this.shape.table.get(this.posIndex);
  }

  get argPos(): Record<string, SourcePos> {
    const keys = this.shape.argKeys;
    return this.shape.table.record(keys, keys.length ? this.posIndex + 1 : -1);
  }

  toJSON(): StepSpec {
    const { index, op, args, as, site, expect, pos, argPos } = this;
    return { index, op, args, as, site, expect, pos, argPos };
  }
}

/** An ExpectSpec whose `pos` and `keyPos` are read from the position table. */
export class LoadedExpect implements ExpectSpec {
  result?: number | string | null = undefined;
  faults?: number = undefined;
  exposed?: number = undefined;
  finding?: string | string[] = undefined;
  private firstKey = -1;
  private keys = KeyList.EMPTY;

  constructor(private readonly table: PosTable, private readonly posIndex: number) {}

  addKey(key: string, line: number, col: number): void {
    const i = this.table.add(line, col);
    if (this.firstKey < 0) this.firstKey = i;
    this.keys = this.keys.with(key);
  }

  get pos(): SourcePos {
    return this.table.get(this.posIndex);
  }

  get keyPos(): Record<string, SourcePos> {
    return this.table.record(this.keys.keys, this.firstKey);
  }

  toJSON(): ExpectSpec {
    const { result, faults, exposed, finding, pos, keyPos } = this;
    return { result, faults, exposed, finding, pos, keyPos };
  }
}

/** A RefExpr whose `pos` is read from the position table. */
export class LoadedRef implements RefExpr {
  readonly kind = 'expr';

  constructor(readonly text: string, readonly terms: RefExpr['terms'], private readonly table: PosTable, private readonly posIndex: number) {}

  get pos(): SourcePos {
    return this.table.get(this.posIndex);
  }

  toJSON(): RefExpr {
    return { kind: 'expr', text: this.text, terms: this.terms, pos: this.pos };
  }
}
