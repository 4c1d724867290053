// The loaded form of a scenario file (see ../shared/spec/scenario-format.md). Positions travel with every
// value that a later error may need to point at.

export interface SourcePos {
  file: string;
  line: number;   // 1-based
  col: number;    // 1-based
}

/** `$name`, `$name.field`, `$sg.entries[1].dma`, with +/- arithmetic: a sum of terms resolved when the step runs. */
export interface RefExpr {
  kind: 'expr';
  text: string;
  terms: Array<{ sign: 1 | -1; ref?: { name: string; path: Array<string | number> }; value?: number }>;
  pos: SourcePos;
}

/** A validated argument value: literals are already converted (sizes to numbers); references wait for run time. */
export type ArgValue = number | string | boolean | null | RefExpr | ArgValue[] | { [key: string]: ArgValue };

export interface ExpectSpec {
  result?: number | string | null;          // a value, "ok", "-EINVAL", "oops", null
  faults?: number;
  exposed?: number;
  finding?: string | string[];
  pos: SourcePos;
  /** position of each expect key, for "expected … got …" messages */
  keyPos: Record<string, SourcePos>;
}

export interface StepSpec {
  index: number;
  op: string;
  args: ArgValue;                           // a scalar for `probe: xhci`, an object otherwise
  as?: string;
  site?: string;
  expect?: ExpectSpec;
  pos: SourcePos;                           // position of the op key
  /** position of each argument key (and of the scalar argument under the key ''), for run-time errors */
  argPos: Record<string, SourcePos>;
}

export interface KernelConfig {
  page_size: number;                        // CPU PAGE_SIZE
  large_iommu_pages: boolean;               // the unmerged granule > PAGE_SIZE series
  dma_strict: boolean;                      // false: lazy invalidation (DMA_FQ)
  swiotlb: boolean;
  version?: string;                         // "4.19", "6.12" ... where behaviour changed across releases
  /** extensions: reproduce the v2 series' misaligned swiotlb slot, flush-queue size/timeout, ... */
  options: Record<string, ArgValue>;
}

export interface MemorySpec { base: number; size: number }

export interface IommuSpec {
  name: string;
  model: string;
  /** model parameters: pgsize_bitmap, ias, oas, bypass, locked, pasid_bits, streams ... */
  params: Record<string, ArgValue>;
  pos: SourcePos;
}

export interface DeviceSpec {
  name: string;
  iommu: string | null;                     // null: no IOMMU (direct mapping)
  iommus?: string[];                        // devices behind several IOMMUs (dual DARTs)
  streams: number[];
  bus: 'platform' | 'pci';
  untrusted: boolean;
  coherent: boolean;
  dma_mask: number;                         // bits
  group?: string;                           // explicit group name; derived otherwise
  params: Record<string, ArgValue>;         // model- or driver-specific extras
  pos: SourcePos;
}

export interface PlatformSpec {
  name: string;                             // preset name or "inline"
  memory: MemorySpec;
  iommus: IommuSpec[];
  devices: DeviceSpec[];
  pos: SourcePos;
}

export interface Scenario {
  file: string;
  name: string;
  platform: PlatformSpec;
  kernel: KernelConfig;
  steps: StepSpec[];
}

/** A bad-input error: printed as FILE:LINE:COL: error: MESSAGE, exit status 2. */
export class ScenarioError extends Error {
  constructor(readonly pos: SourcePos, message: string) {
    super(message);
  }
  format(): string {
    return `${this.pos.file}:${this.pos.line}:${this.pos.col}: error: ${this.message}`;
  }
}
