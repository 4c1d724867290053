// SPDX-License-Identifier: GPL-2.0
/*
 * A small NIC driver for the address map's end-to-end test: the sites named by
 * test/e2e/workspace/map-exposure-fault.iommu.yaml.
 */
#include <linux/dma-mapping.h>
#include <linux/slab.h>

struct nic_priv {
	struct device *dev;
	void *ring;
	dma_addr_t ring_dma;
	struct nic_hdr *hdr;
	dma_addr_t hdr_dma;
	struct page *rx_page;
	dma_addr_t rx_dma;
};

static int nic_open(struct nic_priv *priv)
{
	priv->ring_dma = dma_map_single(priv->dev, priv->ring, SZ_16K, DMA_FROM_DEVICE);
	if (dma_mapping_error(priv->dev, priv->ring_dma))
		return -ENOMEM;
	return 0;
}

static int nic_xmit_hdr(struct nic_priv *priv)
{
	/* 512 bytes from kmalloc: the device can reach the whole 4K IOMMU page around it */
	priv->hdr_dma = dma_map_single(priv->dev, priv->hdr, 512, DMA_TO_DEVICE);
	if (dma_mapping_error(priv->dev, priv->hdr_dma))
		return -ENOMEM;
	return 0;
}

static int nic_rx_refill(struct nic_priv *priv)
{
	priv->rx_dma = dma_map_single(priv->dev, page_address(priv->rx_page), PAGE_SIZE, DMA_FROM_DEVICE);
	if (dma_mapping_error(priv->dev, priv->rx_dma))
		return -ENOMEM;
	return 0;
}

static void nic_rx_done(struct nic_priv *priv)
{
	/* unmapped while the descriptor still points at it: the next write faults */
	dma_unmap_single(priv->dev, priv->rx_dma, PAGE_SIZE, DMA_FROM_DEVICE);
}
