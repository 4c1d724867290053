// A device on the platform and the group it joins.
import type { DeviceSpec } from '../scenario/types';
import type { Domain } from './domain';
import type { IommuInstance } from './instance';

export class Device {
  group: Group | null = null;
  probed = false;
  /** set by `Using %d-bit DMA addresses`: printed once per device */
  loggedDmaBits = false;
  /** per-device state of driver models and the DMA layer */
  readonly ext: Record<string, unknown> = {};

  constructor(readonly spec: DeviceSpec, readonly iommus: IommuInstance[]) {}

  get name(): string { return this.spec.name; }
  get iommu(): IommuInstance | null { return this.iommus[0] ?? null; }
  get streams(): number[] { return this.spec.streams; }
  get primaryStream(): number { return this.spec.streams[0] ?? 0; }
}

export class Group {
  readonly devices: Device[] = [];
  defaultDomain: Domain | null = null;
  domain: Domain | null = null;
  blockingDomain: Domain | null = null;

  constructor(readonly id: number, readonly iommu: IommuInstance, readonly label: string | null) {}
}
