// Which DART streams a device uses (its of_xlate stream maps) and apple_dart_device_group: devices sharing a
// stream share a group; a device whose streams already sit in different groups is refused; a new group that
// the bus puts several devices in (a PCI group, here the device's `group` label) merges only single-DART,
// same-DART members, else `Failed to merge DART IOMMU groups.`
import type { Device, Group } from '../../iommu/device';
import type { IommuInstance, Refusal } from '../../iommu/instance';

/** A device's streams on one DART (apple_dart_stream_map). */
export interface StreamMap { inst: IommuInstance; sids: number[] }

/**
 * The device's stream maps, one per DART in `iommus` order. With as many streams as DARTs, stream i belongs
 * to DART i (`iommus = <&dart0 0>, <&dart1 1>` in the device tree); otherwise every stream is on every DART.
 */
export function streamMaps(dev: Device): StreamMap[] {
  const insts = dev.iommus;
  if (insts.length > 1 && dev.streams.length === insts.length) return insts.map((inst, i) => ({ inst, sids: [dev.streams[i]] }));
  return insts.map(inst => ({ inst, sids: dev.streams.slice() }));
}

function usesStream(dev: Device, inst: IommuInstance, sid: number): boolean {
  return streamMaps(dev).some(m => m.inst === inst && m.sids.includes(sid));
}

/** sid2group: the group a stream of this DART already belongs to. */
function groupOfStream(groups: readonly Group[], inst: IommuInstance, sid: number): Group | null {
  return groups.find(g => g.devices.some(d => usesStream(d, inst, sid))) ?? null;
}

/** apple_dart_merge_master_cfg: both sides on exactly one DART, the same one. */
function canMerge(group: Group, dev: Device): boolean {
  const dst = group.devices[0];
  if (!dst) return true;
  return dst.iommus.length === 1 && dev.iommus.length === 1 && dst.iommus[0] === dev.iommus[0];
}

export function dartDeviceGroup(dev: Device, groups: readonly Group[]): Group | 'new' | Refusal {
  let group: Group | null = null;
  for (const m of streamMaps(dev)) {
    for (const sid of m.sids) {
      const streamGroup = groupOfStream(groups, m.inst, sid);
      // As the driver: a stream in another group (or in none, after one that has a group) refuses the device.
      if (group && group !== streamGroup) return { errno: 'EINVAL', message: '' };
      group = streamGroup;
    }
  }
  if (group) return group;
  const label = dev.spec.group;
  const shared = label !== undefined ? groups.find(g => g.label === label) : undefined;
  if (!shared) return 'new';
  if (!canMerge(shared, dev)) return { errno: 'EINVAL', message: 'Failed to merge DART IOMMU groups.' };
  return shared;
}
