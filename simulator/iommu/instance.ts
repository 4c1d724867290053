// An IOMMU instance on the platform and the interface hardware models implement. The core owns groups,
// domains, the shared page-table walker and the IOTLB; a model decodes its hardware into a common config,
// supplies the page-table format, default-domain policy, invalidation callbacks and fault reporting.
import type { ErrnoName } from '../core/errno';
import type { KernelConfig } from '../scenario/types';
import type { Domain } from './domain';
import type { Iotlb } from './iotlb';
import type { PteFormat } from './pte-format';
import type { Device, Group } from './device';

export interface ModelConfig {
  pgsizeBitmap: number[];        // sizes, ascending
  ias: number;
  oas: number;
  bypass: boolean;               // hardware can bypass translation (identity domains)
  pasidBits: number;             // 0 = no PASID support
  iotlbEntries: number;
  streams: number;               // stream IDs the hardware decodes (0 = unlimited)
}

export interface RegisterValue { name: string; offset: number; value: number; fields?: Record<string, number> }

export interface FaultInfo {
  dev: Device;
  stream: number;
  iova: number;
  access: 'read' | 'write';
  kind: 'translation' | 'permission' | 'blocked' | 'address-size';
  level?: number;                // page-table level where the walk stopped
  pasid?: number;
}

export type Refusal = { errno: ErrnoName; message: string };

export interface IommuModel {
  readonly model: string;
  /** driver name as io_page_fault and dev_err print it: "arm-smmu-v3", "apple-dart" */
  readonly driver: string;
  readonly config: ModelConfig;
  /** Register file as data (name, offset, value and decoded fields). */
  registers(): RegisterValue[];
  /** The IOMMU driver's probe: printk lines, or a refusal (e.g. a locked DART). */
  probe(kernel: KernelConfig): { log: string[]; refusal?: Refusal };
  /**
   * The driver's device_group: an existing group the device must join, 'new' for a fresh group, or a refusal
   * (an empty message: the driver fails silently). Without it the core groups by the device's `group` label.
   */
  deviceGroup?(dev: Device, groups: readonly Group[]): Group | 'new' | Refusal;
  /** Default-domain type for a device's group, per the model's policy and the kernel's settings. */
  defaultDomainType(dev: Device, kernel: KernelConfig): number | Refusal | null;
  /** Page-table format for a paging domain (domain_finalise); a refusal when the hardware cannot. */
  createFormat(type: number, kernel: KernelConfig): PteFormat | Refusal;
  /** Extra checks at attach (DART's page-size rule, the large-page series' LP rule). */
  attachCheck(domain: Domain, dev: Device, kernel: KernelConfig): Refusal | null;
  /** Called when a domain becomes live on a device's streams (program STE/TTBRs, enable streams). */
  onAttach?(domain: Domain, dev: Device): void;
  /** Invalidation as the hardware does it (register writes, commands); must end in the shared IOTLB. */
  flushRange(iotlb: Iotlb, domain: Domain, iova: number, size: number, reason: string): void;
  flushAll(iotlb: Iotlb, domain: Domain, reason: string): void;
  /** The fault line the driver prints. */
  faultMessage(f: FaultInfo, inst: IommuInstance): string;
}

export class IommuInstance {
  probed = false;
  refusal: Refusal | null = null;
  constructor(readonly name: string, readonly model: IommuModel, readonly iotlb: Iotlb) {}
}
