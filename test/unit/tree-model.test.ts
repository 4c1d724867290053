// The sidebar view-models built from a Report, without vscode: structure, labels, tooltips, actions, reveal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Report } from '../../simulator/report/types';
import {
  buildFindingsTree, buildIommuTree, findingsNodeForTouched, findNode, iommuNodeForTouched, MAX_MAPPING_NODES,
  statusSummary, TreeNode, walk,
} from '../../extension/tree/model';
import { touchedByStep } from '../../extension/tree/touched';

function report(): Report {
  return {
    scenario: 'm1 xhci',
    kernel: { page_size: 4096, large_iommu_pages: true, dma_strict: true },
    platform: {
      name: 'apple-t8103', memory: { base: '0x800000000', size: 8 << 30 },
      iommus: [
        { name: 'dart0', model: 'apple-dart-t8103', pgsize_bitmap: [16384], ias: 32, oas: 36, bypass: true,
          registers: [{ name: 'PARAMS1', offset: '0x0', value: '0xe000000' }] },
        { name: 'smmu0', model: 'arm-smmu-v3', pgsize_bitmap: [4096, 2097152, 1073741824], ias: 48, oas: 48, bypass: false },
      ],
    },
    steps: [
      { index: 0, op: 'probe', site: null, result: 'd1', events: [{ kind: 'api', name: 'probe', args: { dev: 'xhci' }, result: 'd1' }], findings: [], line: 5 },
      { index: 1, op: 'kmalloc', site: null, result: { paddr: '0x800004000', size: 4096 }, events: [], findings: [], line: 6 },
      { index: 2, op: 'dma_map_single', site: 'xhci-ring.c:xhci_map_urb', result: '0xffffc000', line: 7,
        events: [
          { kind: 'api', name: 'dma_map_single', args: { dev: 'xhci', paddr: '0x800004000', size: 4096 }, result: '0xffffc000' },
          { kind: 'pte', op: 'set', domain: 'd1', level: 2, index: 2047, iova: '0xffffc000', size: 16384, paddr: '0x800004000', raw: '0x1' },
        ],
        findings: [], expectFailures: ['expected exposed 0, got 12K'] },
      { index: 3, op: 'dma_read', site: null, result: '-EFAULT', line: 9,
        events: [{ kind: 'fault', dev: 'gpu', stream: 0x100, iommu: 'smmu0', iova: '0x10000', access: 'read', fault: 'translation', message: 'F_TRANSLATION', flags: 0 }],
        findings: [] },
    ],
    groups: [
      { id: 0, iommu: 'dart0', devices: ['xhci'], default_domain: 'd1', domain: 'd1' },
      { id: 1, iommu: 'smmu0', devices: ['gpu', 'gpu-audio'], default_domain: 'd2', domain: 'd2' },
    ],
    domains: [
      { id: 'd1', type: 'DMA', iommu: 'dart0', granule: 16384, pgsize_bitmap: [16384], devices: ['xhci'], format: 'dart1',
        mappings: [{ iova: '0xffffc000', size: 16384, paddr: '0x800004000', prot: ['read', 'write'], owner: 'dma_map_single step 2', requested: 4096, exposed: 12288 }] },
      { id: 'd2', type: 'DMA_FQ', iommu: 'smmu0', granule: 4096, pgsize_bitmap: [4096, 2097152, 1073741824], devices: ['gpu', 'gpu-audio'],
        mappings: [
          { iova: '0x200000', size: 2097152, paddr: '0x900000000', prot: ['read'] },
          { iova: '0x1000', size: 4096, paddr: '0x900400000', prot: ['read', 'write', 'noexec'], stale: true },
        ] },
      { id: 'd3', type: 'UNMANAGED', iommu: 'smmu0', granule: 4096, pgsize_bitmap: [4096], devices: [], mappings: [] },
      { id: 'd4', type: 'SVA', iommu: 'smmu0', granule: 4096, pgsize_bitmap: [4096], devices: [], mappings: [] },
    ],
    devices: [
      { name: 'xhci', group: 0, domain: 'd1', streams: [1], untrusted: false, iommu: 'dart0', bus: 'platform' },
      { name: 'gpu', group: 1, domain: 'd2', streams: [0x100], untrusted: false, iommu: 'smmu0', bus: 'pci' },
      { name: 'gpu-audio', group: 1, domain: 'd2', streams: [0x101], untrusted: true, iommu: 'smmu0', bus: 'pci' },
      { name: 'uart', group: null, domain: null, streams: [], untrusted: false, iommu: null, bus: 'platform' },
    ],
    faults: [{ step: 3, dev: 'gpu', stream: 0x100, iova: '0x10000', kind: 'translation', message: 'F_TRANSLATION', access: 'read', iommu: 'smmu0' }],
    findings: [
      { code: 'leak', severity: 'info', message: 'mapping never unmapped', step: null, site: null },
      { code: 'exposure', severity: 'warning', message: 'dma_map_single exposes 12K', step: 2, site: 'xhci-ring.c:xhci_map_urb',
        data: { iova: 0xffffc000, exposed: 12288 } },
    ],
    buffers: [{ id: 'buf', kind: 'kmalloc', paddr: '0x800004000', size: 4096, owner: 'step 1', dma: [{ dev: 'xhci', dma: '0xffffc000', size: 4096 }] }],
    sva: [{ dev: 'gpu', pasid: 1, mm: 'proc1', domain: 'd4' }],
    iovads: [{ id: 'iovad0', granule: 4096, start_pfn: 1, ranges: [{ pfn_lo: 0xff, pfn_hi: 0xff, fast: true }] }],
  };
}

const ids = (nodes: TreeNode[]) => nodes.map(n => n.id);
const byId = (roots: TreeNode[], id: string) => {
  const n = findNode(roots, x => x.id === id);
  assert.ok(n, `node ${id} missing; have ${JSON.stringify(allIds(roots))}`);
  return n;
};
const allIds = (roots: TreeNode[]) => { const out: string[] = []; walk(roots, n => out.push(n.id)); return out; };

test('IOMMUs tree: iommu -> group -> device -> domain -> mappings, then direct devices, buffers, allocators', () => {
  const roots = buildIommuTree(report());
  assert.deepEqual(ids(roots), ['iommu:dart0', 'iommu:smmu0', 'no-iommu', 'buffers', 'iovads']);
  const dart = roots[0];
  assert.equal(dart.description, 'apple-dart-t8103 · 16K · 32→36-bit');
  assert.deepEqual(ids(dart.children), ['group:0']);
  const xhci = byId(roots, 'dev:xhci');
  assert.deepEqual(ids(xhci.children), ['dev:xhci/domain:d1', 'dev:xhci/buffers']);
  const d1 = xhci.children[0];
  assert.equal(d1.label, 'd1 · DMA');
  assert.equal(d1.description, 'granule 16K · 1 mapping · 12K exposed');
  const m = d1.children[0];
  assert.equal(m.label, '0xffffc000-0xffffffff → 0x800004000');
  assert.equal(m.description, '16K · RW · dma_map_single step 2 · exposes 12K');
  assert.equal(m.icon, 'warning');
  assert.equal(m.address, '0xffffc000');
  assert.equal(m.site, 'xhci-ring.c:xhci_map_urb', 'site comes from the owning step');
  assert.equal(m.scenarioLine, 7);
  assert.deepEqual(m.contextValue.split(' ').sort(), ['copyable', 'hasSite', 'mappable', 'mapping']);
  assert.match(m.tooltip!, /\| physical \| `0x800004000-0x800007fff` \|/);
  assert.match(m.tooltip!, /IOMMU_READ \\\| IOMMU_WRITE/);
  assert.match(m.tooltip!, /exposed beyond request \| \*\*`0x3000` \(12K\)\*\*/);
});

test('IOMMUs tree: shared group domain under each device, sorted mappings, stale and prot flags, SVA, unattached domains', () => {
  const roots = buildIommuTree(report());
  const smmu = byId(roots, 'iommu:smmu0');
  assert.deepEqual(ids(smmu.children), ['group:1', 'iommu:smmu0/unattached']);
  assert.deepEqual(ids(smmu.children[1].children), ['iommu:smmu0/unattached/domain:d3'], 'the SVA domain hangs off its bond instead');
  assert.equal(smmu.children[0].description, '2 devices · on d2');
  const gpuMaps = byId(roots, 'dev:gpu/domain:d2').children;
  assert.deepEqual(gpuMaps.map(n => n.ref?.iova), ['0x1000', '0x200000'], 'sorted by IOVA');
  assert.equal(gpuMaps[0].description, '4K · RW noexec · stale in IOTLB');
  assert.equal(gpuMaps[1].description, '2M · R');
  byId(roots, 'dev:gpu-audio/domain:d2');
  const sva = byId(roots, 'dev:gpu/sva:1');
  assert.equal(sva.description, 'mm proc1 · d4');
  assert.match(byId(roots, 'dev:gpu/domain:d2').tooltip!, /pgsize_bitmap \| `0x40201000 \(4K \\\| 2M \\\| 1G\)`/);
  const audio = byId(roots, 'dev:gpu-audio');
  assert.equal(audio.description, 'stream 0x101 · pci · untrusted');
  assert.equal(audio.icon, 'plug');
  assert.deepEqual(ids(byId(roots, 'no-iommu').children), ['dev:uart']);
});

test('IOMMUs tree: ids are unique and stable across rebuilds', () => {
  const a = allIds(buildIommuTree(report()));
  assert.equal(new Set(a).size, a.length, 'duplicate ids');
  assert.deepEqual(allIds(buildIommuTree(report())), a);
});

test('IOMMUs tree: a domain with more mappings than the cap lists the first ones and says how many are left', () => {
  const r = report();
  r.domains[2].mappings = Array.from({ length: MAX_MAPPING_NODES + 3 }, (_, i) => ({ iova: '0x' + ((i + 1) * 4096).toString(16), size: 4096, paddr: '0x900000000', prot: ['read'] }));
  const d3 = byId(buildIommuTree(r), 'iommu:smmu0/unattached/domain:d3');
  assert.equal(d3.children.length, MAX_MAPPING_NODES + 1);
  assert.equal(d3.children.at(-1)!.label, '3 more mappings');
  assert.equal(d3.expanded, false);
});

test('IOMMUs tree: report without platform still lists IOMMUs from groups and domains', () => {
  const r = report();
  delete r.platform;
  assert.deepEqual(ids(buildIommuTree(r)).slice(0, 2), ['iommu:dart0', 'iommu:smmu0']);
  assert.equal(buildIommuTree(r)[0].description, undefined);
});

test('empty report: no nodes in either tree', () => {
  const r: Report = { scenario: 's', kernel: { page_size: 4096, large_iommu_pages: false, dma_strict: true }, steps: [], groups: [], domains: [], devices: [], faults: [], findings: [] };
  assert.deepEqual(buildIommuTree(r), []);
  assert.deepEqual(buildFindingsTree(r), []);
});

test('Faults & Findings: faults, findings by severity, failed expectations', () => {
  const roots = buildFindingsTree(report());
  assert.deepEqual(ids(roots), ['faults', 'findings', 'expectations']);
  const fault = roots[0].children[0];
  assert.equal(fault.label, 'translation fault at 0x10000');
  assert.equal(fault.description, 'gpu · read · step 3');
  assert.match(fault.tooltip!, /stream ID \| `0x100`/);
  assert.equal(fault.scenarioLine, 9);
  assert.deepEqual(roots[1].children.map(n => n.label), ['exposure', 'leak'], 'warnings before infos');
  assert.equal(roots[1].description, '1 warning, 1 info');
  const exposure = roots[1].children[0];
  assert.equal(exposure.id, 'finding:1');
  assert.equal(exposure.site, 'xhci-ring.c:xhci_map_urb');
  assert.match(exposure.contextValue, /\bhasSite\b/);
  assert.match(exposure.tooltip!, /\| iova \| `0xffffc000` \|/);
  assert.match(exposure.tooltip!, /\| exposed \| `12288` \(12K\) \|/);
  assert.equal(roots[2].children[0].label, 'expected exposed 0, got 12K');
  assert.equal(roots[2].children[0].scenarioLine, 7);
});

test('Faults & Findings: an oops comes first and names the last step', () => {
  const r = report();
  r.oops = 'Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000';
  const roots = buildFindingsTree(r);
  assert.equal(roots[0].id, 'oops');
  assert.equal(roots[0].step, 3);
  assert.match(roots[0].tooltip!, /NULL pointer/);
});

test('touchedByStep: the mapping a map step wrote, the fault an access raised, the device a probe attached', () => {
  const r = report();
  const map = touchedByStep(r, r.steps[2]);
  assert.deepEqual({ ...map }, { step: 2, op: 'dma_map_single', dev: 'xhci', domain: 'd1', iova: '0xffffc000', paddr: '0x800004000', size: 16384, findingIndex: 1 });
  const iommus = buildIommuTree(r);
  assert.equal(iommuNodeForTouched(iommus, map)?.id, 'dev:xhci/domain:d1/map:0xffffc000');
  const fault = touchedByStep(r, r.steps[3]);
  assert.equal(fault.faultIndex, 0);
  assert.equal(fault.domain, 'd2');
  assert.equal(findingsNodeForTouched(buildFindingsTree(r), fault)?.id, 'fault:0');
  assert.equal(iommuNodeForTouched(iommus, fault)?.id, 'dev:gpu/domain:d2', 'no mapping at the faulting IOVA: its domain');
  const probe = touchedByStep(r, r.steps[0]);
  assert.equal(iommuNodeForTouched(iommus, probe)?.id, 'dev:xhci/domain:d1');
  assert.equal(iommuNodeForTouched(iommus, { step: 1, op: 'kmalloc' }), undefined);
});

test('touchedByStep: an IOVA inside a large mapping reveals that mapping', () => {
  const r = report();
  const t = { step: 9, op: 'dma_read', dev: 'gpu', domain: 'd2', iova: '0x3ff000' };
  assert.equal(iommuNodeForTouched(buildIommuTree(r), t)?.id, 'dev:gpu/domain:d2/map:0x200000');
});

test('statusSummary: platform, CPU/IOMMU page sizes and counts', () => {
  const s = statusSummary(report(), { cursor: 2, total: 4 });
  assert.equal(s.text, '$(error) apple-t8103 · 4K/4K,16K · 3 mappings · 1 fault · 2 findings · step 2/4');
  assert.equal(s.mappings, 3);
  assert.equal(s.bad, true);
  assert.match(s.tooltip, /\| CPU PAGE_SIZE \| 4K \|/);
  const clean = report();
  clean.faults = []; clean.findings = []; clean.domains = [clean.domains[0]];
  assert.equal(statusSummary(clean, { cursor: 4, total: 4 }).text, '$(circuit-board) apple-t8103 · 4K/16K · 1 mapping · 0 faults · 0 findings');
});

test('every example: both trees build, ids are unique, every mapping, fault and finding has its node', async () => {
  const { loadSession } = await import('../../simulator/session');
  const fs = await import('node:fs');
  const path = await import('node:path');
  const dir = path.resolve(__dirname, '../../examples');
  const files = fs.readdirSync(dir).filter(f => /\.iommu\.(ya?ml|json)$/.test(f));
  assert.ok(files.length > 0);
  for (const f of files) {
    const s = loadSession(fs.readFileSync(path.join(dir, f), 'utf8'), f);
    await s.runToEnd();
    const r = s.snapshot();
    const iommus = buildIommuTree(r), findings = buildFindingsTree(r);
    const seen = allIds([...iommus, ...findings]);
    assert.equal(new Set(seen).size, seen.length, `${f}: duplicate node ids`);
    const mappingNodes = new Set<string>();
    walk(iommus, n => { if (n.kind === 'mapping') mappingNodes.add(`${n.ref!.domain}@${n.ref!.iova}`); });
    for (const d of r.domains) {
      if (d.mappings.length > MAX_MAPPING_NODES) continue;
      for (const m of d.mappings) assert.ok(mappingNodes.has(`${d.id}@${m.iova}`), `${f}: no node for mapping ${m.iova} of ${d.id}`);
    }
    r.faults.forEach((_, i) => assert.ok(findNode(findings, n => n.id === `fault:${i}`), `${f}: fault ${i}`));
    r.findings.forEach((_, i) => assert.ok(findNode(findings, n => n.id === `finding:${i}`), `${f}: finding ${i}`));
    for (const sva of r.sva ?? []) assert.ok(findNode(iommus, n => n.id === `dev:${sva.dev}/sva:${sva.pasid}`), `${f}: SVA bond ${sva.dev}/${sva.pasid}`);
    const last = r.steps.at(-1);
    if (last) touchedByStep(r, last);
    statusSummary(r);
  }
});
