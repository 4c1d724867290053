// The pagesPerStep refusal names the work that hit it. iommu_map and device accesses build that text only when
// the limit is hit (it used to be formatted on every call, ~10% of a dma_map_single/unmap pair): the message
// must still say what, how much and where.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSession } from '../../simulator/session';
import { iommuMap } from '../../simulator/iommu/map';
import { deviceAccess } from '../../simulator/iommu/access';
import { LimitError, LIMITS } from '../../simulator/limits';
import { PROT_READ } from '../../simulator/iommu/pte-format';

const SCENARIO = `
platform:
  memory: { base: 0x80000000, size: 4G }
  iommus:
    - { name: io0, model: generic, pgsize_bitmap: [4K], ias: 48, oas: 48 }
  devices:
    - { name: d0, iommu: io0, streams: [1] }
steps:
  - probe: d0
  - iommu_domain_alloc: { dev: d0, type: unmanaged }
    as: d
  - iommu_attach_device: { domain: $d, dev: d0 }
`;

function machine() {
  const s = loadSession(SCENARIO, 'limits.iommu.yaml', { collectEvents: false, trace: false });
  s.runAll();
  const k = s.kernel;
  return { k, d: [...k.domains.values()].find(x => x.type === 1)!, dev: k.devices.get('d0')! };
}

const tooMany = (LIMITS.pagesPerStep + 1) * 4096;

test('iommu_map over pagesPerStep: LimitError naming iommu_map, the size and the iova, nothing mapped', () => {
  const { k, d } = machine();
  assert.throws(() => iommuMap(k, d, 0x100000000, 0x80000000, tooMany, PROT_READ), (e: unknown) => {
    assert.ok(e instanceof LimitError);
    assert.equal(e.limit, 'pagesPerStep');
    assert.match(e.message, new RegExp(`^iommu_map of 0x${tooMany.toString(16)} bytes at iova 0x100000000 needs more than ${LIMITS.pagesPerStep} `));
    return true;
  });
  assert.equal(d.pgtable!.lookup(0x100000000), null);
  assert.equal(iommuMap(k, d, 0x100000000, 0x80000000, 4096, PROT_READ), 0, 'a small map still goes through');
});

test('a device access over pagesPerStep: LimitError naming the access, its size and address', () => {
  const { k, dev } = machine();
  assert.throws(() => deviceAccess(k, dev, 0x200000000, tooMany, 'write'), (e: unknown) => {
    assert.ok(e instanceof LimitError);
    assert.match(e.message, new RegExp(`^a device write of 0x${tooMany.toString(16)} bytes at 0x200000000 needs more than ${LIMITS.pagesPerStep} `));
    return true;
  });
});
