// Helpers and small C fixtures for the source-analysis tests. The C here is written for the tests; the
// seed patch itself is only read at test time from ../shared (never copied into the repository).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Analysis, SourceFinding } from '../../simulator/analysis/index';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const sharedDir = path.resolve(repoRoot, '../shared');
export const driversDir = path.join(repoRoot, 'examples', 'drivers');

/** The seed mail; a missing ../shared is a broken checkout, not a reason to skip. */
export function readSeed(name: string): string {
  const file = path.join(sharedDir, 'seeds', name);
  assert.ok(fs.existsSync(file), `seed ${file} is missing: ../shared must sit beside the repository (it always does in CI)`);
  return fs.readFileSync(file, 'utf8');
}

/**
 * The added lines of each .c file of a patch quoted in a mail: strip the `> ` quoting, follow the
 * `diff --git` headers, keep lines starting with `+` (not `+++`) without their marker.
 */
export function extractAddedC(mail: string): Map<string, string> {
  const files = new Map<string, string[]>();
  let current: string | null = null;
  for (const raw of mail.split('\n')) {
    if (!raw.startsWith('>')) continue;
    const line = raw.replace(/^> ?/, '');
    const header = /^diff --git a\/(\S+) b\//.exec(line);
    if (header) { current = header[1]; continue; }
    if (!current?.endsWith('.c') || line.startsWith('+++') || !line.startsWith('+')) continue;
    if (!files.has(current)) files.set(current, []);
    files.get(current)!.push(line.slice(1));
  }
  return new Map([...files].map(([file, lines]) => [file, lines.join('\n') + '\n']));
}

/** 1-based line of the first line containing `needle`, at or after the line containing `after`. */
export function lineOf(text: string, needle: string, after?: string): number {
  const lines = text.split('\n');
  const from = after === undefined ? 0 : lineOf(text, after) - 1;
  const i = lines.findIndex((l, n) => n >= from && l.includes(needle));
  assert.ok(i >= 0, `'${needle}' not found${after ? ` after '${after}'` : ''}`);
  return i + 1;
}

/** Findings as sorted "LINE CODE" strings, for exact comparisons. */
export function lineCodes(findings: SourceFinding[]): string[] {
  return findings.map(f => `${f.line} ${f.code}`).sort(byLineThenCode);
}

export function expectLines(pairs: Array<[number, string]>): string[] {
  return pairs.map(([line, code]) => `${line} ${code}`).sort(byLineThenCode);
}

function byLineThenCode(a: string, b: string): number {
  const [la, ca] = a.split(' ');
  const [lb, cb] = b.split(' ');
  return Number(la) - Number(lb) || ca.localeCompare(cb);
}

export function codes(a: Analysis): string[] {
  return [...new Set(a.findings.map(f => f.code))].sort();
}

/** Seed 002 (drm/msm): the device is moved to the driver's own domain, then used with the DMA API. */
export const OWN_DOMAIN_POSTED = `
struct gpu_priv {
	struct device *dev;
	struct iommu_domain *domain;
};

static int gpu_iommu_setup(struct gpu_priv *priv)
{
	int ret;

	priv->domain = iommu_paging_domain_alloc(priv->dev);
	if (IS_ERR(priv->domain))
		return PTR_ERR(priv->domain);

	ret = iommu_attach_device(priv->domain, priv->dev);
	if (ret)
		iommu_domain_free(priv->domain);
	return ret;
}

static int gpu_buffer_pin(struct gpu_priv *priv, struct sg_table *sgt)
{
	return dma_map_sgtable(priv->dev, sgt, DMA_BIDIRECTIONAL, 0);
}

static int gpu_ring_map(struct gpu_priv *priv, void *ring, size_t len, dma_addr_t *out)
{
	struct device *dev = priv->dev;
	dma_addr_t addr;

	addr = dma_map_single(dev, ring, len, DMA_BIDIRECTIONAL);
	if (dma_mapping_error(dev, addr))
		return -ENOMEM;
	*out = addr;
	return 0;
}
`;

/** The same driver mapping through its own domain. */
export const OWN_DOMAIN_FIXED = OWN_DOMAIN_POSTED
  .replace('return dma_map_sgtable(priv->dev, sgt, DMA_BIDIRECTIONAL, 0);',
    'return iommu_map_sgtable(priv->domain, GPU_VA_BASE, sgt, IOMMU_READ | IOMMU_WRITE) < 0 ? -ENOMEM : 0;')
  .replace(/\tstruct device \*dev = priv->dev;\n\tdma_addr_t addr;\n\n\taddr = dma_map_single[\s\S]*?\*out = addr;/,
    '\tint ret = iommu_map(priv->domain, GPU_RING_VA, virt_to_phys(ring), len, IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);\n\n'
    + '\tif (ret)\n\t\treturn ret;\n\t*out = GPU_RING_VA;');

/** Seed 001 (M1 display): a coherent buffer turned into a table and mapped for a second device. */
export const SGTABLE_SHARED = `
static int dcp_share_with_piodma(struct dcp_priv *dcp, struct dcp_buf *buf)
{
	struct sg_table sgt;
	int ret;

	ret = dma_get_sgtable(dcp->dev, &sgt, buf->vaddr, buf->dma, buf->size);
	if (ret)
		return ret;

	ret = dma_map_sgtable(dcp->piodma, &sgt, DMA_TO_DEVICE, 0);
	if (ret) {
		sg_free_table(&sgt);
		return ret;
	}
	buf->piodma_sgt = sgt;
	return 0;
}
`;

/** dma_get_sgtable() for the buffer's own device only: nothing is shared. */
export const SGTABLE_OWN_DEVICE = SGTABLE_SHARED.replace('dma_map_sgtable(dcp->piodma,', 'dma_map_sgtable(dcp->dev,');

export const MAPPING_UNCHECKED = `
static int nic_xmit(struct nic *nic, void *data, size_t len)
{
	dma_addr_t addr;

	addr = dma_map_single(nic->dev, data, len, DMA_TO_DEVICE);
	nic_write_desc(nic, addr, len);
	return 0;
}

static void nic_kick(struct nic *nic, struct page *page)
{
	writeq(dma_map_page(nic->dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE), nic->doorbell);
}
`;

export const MAPPING_CHECKED = `
static int nic_xmit(struct nic *nic, void *data, size_t len)
{
	dma_addr_t addr;

	addr = dma_map_single(nic->dev, data, len, DMA_TO_DEVICE);
	if (dma_mapping_error(nic->dev, addr))
		return -ENOMEM;
	nic_write_desc(nic, addr, len);
	return 0;
}
`;

/** Kernel idioms a plain C grammar does not know; none of this should be reported as unparsable. */
export const MACRO_HEAVY = `// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>

static DEFINE_MUTEX(foo_lock);
static LIST_HEAD(foo_list);

struct foo_dev {
	struct list_head node;
	void __iomem *regs;
	struct iommu_domain *domain;
	dma_addr_t iova;
	size_t size;
	u64 stamp __aligned(8);
} __packed;

static const struct of_device_id foo_ids[] = {
	{ .compatible = "vendor,foo" },
	{ }
};
MODULE_DEVICE_TABLE(of, foo_ids);

static int __must_check foo_read(struct foo_dev *foo, void __user *ubuf, size_t len)
{
	if (copy_to_user(ubuf, &foo->stamp, min(len, sizeof(foo->stamp))))
		return -EFAULT;
	return 0;
}

static void foo_unmap_all(void)
{
	struct foo_dev *foo, *tmp;

	mutex_lock(&foo_lock);
	list_for_each_entry_safe(foo, tmp, &foo_list, node) {
		iommu_unmap(foo->domain, foo->iova, foo->size);
		list_del(&foo->node);
	}
	mutex_unlock(&foo_lock);
}
EXPORT_SYMBOL_GPL(foo_unmap_all);

static int foo_map_sg(struct foo_dev *foo, struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned long iova = foo->iova;
	int i, ret;

	for_each_sgtable_sg(sgt, sg, i) {
		ret = iommu_map(foo->domain, iova, sg_phys(sg), sg->length, IOMMU_READ, GFP_KERNEL);
		if (ret)
			return ret;
		iova += sg->length;
	}
	return 0;
}

static int __init foo_probe(struct platform_device *pdev)
{
	struct foo_dev *foo __free(kfree) = kzalloc(sizeof(*foo), GFP_KERNEL);
	struct foo_dev *same = container_of(&foo->node, struct foo_dev, node);

	if (!foo)
		return -ENOMEM;
	foo->domain = iommu_get_domain_for_dev(&pdev->dev);
	*foo = (struct foo_dev){ .size = SZ_4K };
	guard(mutex)(&foo_lock);
	list_add(&same->node, &foo_list);
	retain_and_null_ptr(foo);
	return 0;
}

static struct platform_driver foo_driver = {
	.probe = foo_probe,
	.driver = { .name = "foo", .of_match_table = foo_ids },
};
module_platform_driver(foo_driver);
MODULE_LICENSE("GPL");
`;
