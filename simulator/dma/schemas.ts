// Schemas of the DMA layer's ops beyond the contract's list (scenario/schemas.ts holds those).
import { ArgField, registerOpSchema } from '../scenario/opspec';

const dev: ArgField = { type: 'name', required: true, doc: 'device name' };
const obj = (o: Record<string, ArgField>) => ({ object: o });
const handle = (doc: string): ArgField => ({ type: 'handle', required: true, doc });

registerOpSchema({ name: 'dma_mapping_error', doc: 'check a DMA address from a map call: -ENOMEM for DMA_MAPPING_ERROR, else 0', args: obj({
  dev, dma: { type: 'u64', required: true, doc: 'the address the map call returned' },
}) });
for (const name of ['dma_set_mask_and_coherent', 'dma_set_mask', 'dma_set_coherent_mask']) {
  registerOpSchema({ name, doc: 'set the device\'s DMA mask to DMA_BIT_MASK(bits); 0 or -EIO', args: obj({
    dev, bits: { type: 'int', required: true, min: 1, max: 64, doc: 'address bits (DMA_BIT_MASK(bits))' },
  }) });
}
registerOpSchema({ name: 'dma_set_max_seg_size', doc: 'largest DMA segment dma_map_sg may produce for the device', args: obj({
  dev, size: { type: 'u64', required: true, doc: 'bytes' },
}) });
registerOpSchema({ name: 'dma_set_seg_boundary', doc: 'segment boundary mask (2^n - 1) no DMA segment may cross', args: obj({
  dev, mask: { type: 'u64', required: true, doc: 'boundary mask, e.g. 0xffffffff' },
}) });
registerOpSchema({ name: 'reserve_iova', doc: 'keep a pfn range away from an IOVA allocator', args: obj({
  iovad: handle('IOVA domain'), pfn_lo: { type: 'u64', required: true, doc: 'first pfn' }, pfn_hi: { type: 'u64', required: true, doc: 'last pfn' },
}) });
registerOpSchema({ name: 'find_iova', doc: 'the IOVA range containing pfn, or null', args: obj({
  iovad: handle('IOVA domain'), pfn: { type: 'u64', required: true, doc: 'pfn' },
}) });
