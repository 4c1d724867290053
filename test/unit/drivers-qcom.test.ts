// Qualcomm display/GPU (seed 002): the arm-smmu model on the qcom-sdm845 preset, drm/msm attaching its own
// domain while still calling the DMA API (4.19 oops, 4.20+ unused default domain), firmware scanout, and the
// opt-outs of the automatic DMA domain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScenarioError } from '../../simulator/scenario/types';
import { allCodes, codesAt, logged, result, run } from './drivers-fixtures';

const MSM = `
  - probe: mdss
  - msm.iommu_attach: { dev: mdss }
    as: own
  - msm.gem_new: { dev: mdss, size: 64K }
    as: fb
  - msm.gem_get_iova: { dev: mdss, bo: $fb }
    as: fbmap
`;
const qcom = (kernel: string, steps: string) => run(`platform: qcom-sdm845\nkernel: { ${kernel} }\nsteps:${steps}`);

test('arm-smmu probes with the driver\'s banner: MMU-500 page sizes and address sizes', () => {
  const s = qcom('', '\n  - probe: mdss\n');
  assert.equal(logged(s, 'SMMUv2 with:').length, 2);
  assert.equal(logged(s, '\tSupported page sizes: 0x60211000').length, 2);
  assert.equal(logged(s, '\tStage-1: 48-bit VA -> 40-bit IPA').length, 2);
  assert.equal(logged(s, 'apps_smmu: \t24 context banks (0 stage-2 only)').length, 1);
  const idr2 = s.snapshot().platform!.iommus[0].registers!.find(r => r.name === 'SMMU_IDR2')!;
  assert.deepEqual(idr2.fields, { IAS: 2, OAS: 2, UBS: 5, PTFS_4K: 1, PTFS_16K: 0, PTFS_64K: 1 });
});

test('io-pgtable picks the granule of PAGE_SIZE: 4K/2M/1G on a 4K kernel, 64K/512M on a 64K kernel', () => {
  const bitmap = (page: string) => qcom(`page_size: ${page}`, '\n  - probe: mdss\n').snapshot().domains[0].pgsize_bitmap;
  assert.deepEqual(bitmap('4K'), [4096, 2 ** 21, 2 ** 30]);
  assert.deepEqual(bitmap('64K'), [65536, 2 ** 29]);
});

test('4.19: get_pages\' dma_map_sg on the driver-owned domain dereferences its NULL IOVA cookie', () => {
  const s = qcom('version: "4.19"', MSM);
  assert.deepEqual(result(s, 'fbmap'), { oops: s.oops });
  assert.match(s.oops!, /NULL pointer dereference.*iommu_dma_map_sg on mdss/);
  const f = s.kernel.findings.find(x => x.code === 'null-iova-cookie')!;
  assert.equal(f.site, 'msm_gem.c:get_pages');
});

test('4.20+: the DMA API maps into the unused default domain; the driver\'s own IOVA works, a DMA API address faults', () => {
  const s = qcom('version: "6.12"', MSM + `
  - dma_read: { dev: mdss, addr: $fbmap.iova, size: 64K }
    as: ok
  - msm.dsi_tx_buf_alloc: { dev: mdss, size: 4K }
    as: tx
  - dma_read: { dev: mdss, addr: $tx.dma, size: 64 }
    as: bad
`);
  const fbmap = result(s, 'fbmap');
  assert.equal(fbmap.iova, 0x1000, 'the first address of the KMS address space');
  assert.ok(fbmap.dma > 2 ** 32, 'dma_map_sg still handed out a default-domain address');
  assert.equal(result(s, 'ok'), result(s, 'fb').paddr);
  assert.deepEqual(result(s, 'bad'), { fault: 'translation', iova: '0x' + result(s, 'tx').dma.toString(16) });
  assert.ok(codesAt(s, 3).includes('dma-domain-mismatch'));
  const fault = s.kernel.faults.at(-1)!;
  assert.match(fault.message, /^Unhandled context fault: fsr=0x402, iova=0x[0-9a-f]{8,}, fsynr=0x[0-9a-f]+, cbfrsynra=0x880, cb=1$/);
  const def = s.snapshot().domains.find(d => d.id === 'd1')!;
  assert.equal(def.devices.length, 0, 'nobody translates through the default domain');
  assert.ok(def.mappings.length >= 2);
});

test('firmware scanout: the automatic DMA domain faults at probe; the blacklist opt-out leaves no default domain', () => {
  const steps = `
  - firmware_scanout: { dev: mdss, paddr: 0x9d400000, size: 8M }
  - probe: mdss
    as: p
`;
  const plain = qcom('', steps);
  assert.ok(allCodes(plain).includes('firmware-dma-fault'));
  const opt = qcom('options: { qcom_dma_opt_out: blacklist }', steps + `
  - msm.iommu_attach: { dev: mdss, preserve_scanout: true }
  - probe: gpu
    as: g
`);
  assert.equal(result(opt, 'p'), null);
  assert.equal(result(opt, 'g'), null);
  assert.deepEqual(opt.kernel.faults, []);
  assert.deepEqual(allCodes(opt), []);
  const own = opt.snapshot().domains.find(d => d.type === 'UNMANAGED')!;
  assert.deepEqual(own.mappings.map(m => [m.iova, m.paddr, m.size]), [['0x9d400000', '0x9d400000', 8 * 2 ** 20]]);
});

test('the identity opt-out (qcom_smmu_def_domain_type) gives display and GPU an identity default domain', () => {
  const s = qcom('options: { qcom_dma_opt_out: identity }', '\n  - probe: mdss\n    as: m\n  - probe: gpu\n    as: g\n');
  assert.equal(result(s, 'm').type, 'IDENTITY');
  assert.equal(result(s, 'g').type, 'IDENTITY');
});

test('a device param dma_domain overrides the policy; bad values are input errors naming the value', () => {
  const inline = (v: string) => `platform:
  iommus: [{ name: smmu, model: arm-smmu }]
  devices: [{ name: mdss, iommu: smmu, streams: [0x880], params: { dma_domain: ${v} } }]
steps:
  - probe: mdss
    as: p
`;
  assert.equal(result(run(inline('none')), 'p'), null);
  assert.equal(result(run(inline('identity')), 'p').type, 'IDENTITY');
  assert.throws(() => run(inline('off')), (e: unknown) => e instanceof ScenarioError && /params dma_domain: expected dma, identity or none, got "off"/.test(e.message) && e.pos.line === 3);
  assert.throws(() => qcom('options: { qcom_dma_opt_out: yes please }', '\n  - probe: mdss\n'), /qcom_dma_opt_out: expected blacklist or identity/);
});
