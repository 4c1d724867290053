// The JSON report of a run (scenario-format.md "Report"). It is also the snapshot every view is built
// from: the tree, the map and the annotations read this, never simulator internals. Fields beyond the
// contract are additions the contract allows.
import type { Finding, SimEvent } from '../core/events';

/** Addresses are lowercase hex strings in the report. */
export type HexString = string;

export interface ReportStep {
  index: number;
  op: string;
  site: string | null;
  result: unknown;                          // value, "-EINVAL", null, { oops: "..." }, objects
  events: ReportEvent[];
  findings: Finding[];
  /** additions */
  line?: number;                            // 1-based line of the step in the scenario file
  as?: string;
  expectFailures?: string[];
}

/** Events in the report: SimEvent with addresses turned into hex strings. */
export type ReportEvent = Record<string, unknown> & { kind: SimEvent['kind'] };

export interface ReportMapping {
  iova: HexString;
  size: number;
  paddr: HexString;
  prot: string[];
  /** additions: who asked for it and what it exposed */
  owner?: string;                           // buffer / API that created it: "dma_map_single step 4"
  requested?: number;                       // bytes the caller asked for (DMA layer)
  exposed?: number;                         // bytes visible beyond what was asked
  stale?: boolean;                          // unmapped but still in the IOTLB (lazy mode)
}

export interface ReportDomain {
  id: string;
  type: string;                             // BLOCKED, IDENTITY, UNMANAGED, DMA, DMA_FQ, SVA ...
  iommu: string;
  granule: number;
  pgsize_bitmap: number[];
  devices: string[];
  mappings: ReportMapping[];
  /** additions */
  aperture?: { start: HexString; end: HexString };
  default_of_group?: number | null;
  iova_cookie?: boolean;
  format?: string;                          // page-table format name: arm-lpae-s1-4k, dart1 ...
  reserved?: Array<{ start: HexString; end: HexString; why: string }>;
}

export interface ReportGroup { id: number; iommu: string; devices: string[]; default_domain?: string | null; domain?: string | null }

export interface ReportDevice {
  name: string;
  group: number | null;
  domain: string | null;
  streams: number[];
  untrusted: boolean;
  /** additions */
  iommu?: string | null;
  bus?: 'platform' | 'pci';
  coherent?: boolean;
  dma_mask?: number;
  probed?: boolean;
}

export interface ReportFault {
  step: number;
  dev: string;
  stream: number;
  iova: HexString;
  kind: string;
  message: string;
  /** additions */
  access?: 'read' | 'write';
  pasid?: number;
  iommu?: string;
}

export interface ReportIommu {
  name: string;
  model: string;
  pgsize_bitmap: number[];
  ias: number;
  oas: number;
  bypass: boolean;
  registers?: Array<{ name: string; offset: HexString; value: HexString; fields?: Record<string, number> }>;
}

/** CPU-side buffers (kmalloc, alloc_pages, coherent, GEM objects) for views and exposure naming. */
export interface ReportBuffer {
  id: string;
  kind: string;                             // kmalloc, pages, coherent, gem, swiotlb-slot ...
  paddr: HexString;
  size: number;
  owner?: string;                           // step or driver object that owns it
  freed?: boolean;
  dma?: Array<{ dev: string; dma: HexString; size: number }>;
}

export interface Report {
  scenario: string;
  kernel: { page_size: number; large_iommu_pages: boolean; dma_strict: boolean; swiotlb?: boolean; version?: string };
  steps: ReportStep[];
  groups: ReportGroup[];
  domains: ReportDomain[];
  devices: ReportDevice[];
  faults: ReportFault[];
  findings: Finding[];
  /** additions */
  platform?: { name: string; memory: { base: HexString; size: number }; iommus: ReportIommu[] };
  buffers?: ReportBuffer[];
  oops?: string | null;
  expectations?: { checked: number; failed: number };
  /** steps run; `steps` may hold only the first ones (text reports of long runs) */
  steps_total?: number;
  sva?: Array<{ dev: string; pasid: number; mm: string; domain: string; exited?: boolean; users?: number }>;
  /** SVA hardware view (sva/report.ts): the binding model that ran, STEs, PASID (CD) tables, processes */
  sva_tables?: {
    model: 'seed' | 'mainline';
    stream_table: Array<{ sid: number; dev: string; config: string; s1_context_ptr: HexString | null; s1_cd_max: number }>;
    pasid_tables: Array<{ owner: string; owner_kind: 'domain' | 'device'; iommu: string; base: HexString; two_level: boolean;
      entries: Array<{ pasid: number; kind: 'io_pgtable' | 'mm'; cd: HexString; ttb0: HexString; asid: number; mm?: string; domain?: string }> }>;
    processes: Array<{ mm: string; pgd: HexString; asid: number; pasid: number | null; exited: boolean; pages: number }>;
  };
  iovads?: Array<{ id: string; granule: number; start_pfn: number; ranges: Array<{ pfn_lo: number; pfn_hi: number; fast?: boolean }>; cached?: number }>;
}
