import { loadSession } from '../simulator/session';
import { dmaMapSingle, dmaUnmapSingle } from '../simulator/dma/api';
const text = `
platform: apple-t8103
kernel: { page_size: 4K, large_iommu_pages: true, dma_strict: true }
steps:
  - probe: "0000:03:00.0"
  - kmalloc: { size: 4K, as: buf }
`;
const s = loadSession(text, 'bench.iommu.yaml', { collectEvents: false });
s.runAll();
const k = s.kernel;
console.log(s.runs.map(r => JSON.stringify(r.result)).join('\n'));
const dev = k.devices.get('0000:03:00.0')!;
const paddr = (s.runs[1].result as any).paddr;
const N = 200000;
for (let rep = 0; rep < 5; rep++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const dma = dmaMapSingle(k, dev, paddr, 4096, 1);
    dmaUnmapSingle(k, dev, dma, 4096, 1);
  }
  const t1 = process.hrtime.bigint();
  console.log(Number(t1 - t0) / N, 'ns/pair', k.trace.length, k.findings.length, k.dmesg.length);
}
