// SPDX-License-Identifier: GPL-2.0
/*
 * APU accelerator: GEM buffers and their IOMMU mappings, as first posted.
 *
 * Example input for IOMMU Lens. It follows the design of the 2023 "drm/apu:
 * Add support of IOMMU" patch and keeps, on purpose, every problem its review
 * found: CPU page helpers on IOVAs, one iommu_map() per scatterlist entry and
 * one iommu_unmap() per segment, alloc_iova_fast() ranges given back with
 * free_iova(), a 32-bit IOVA, an unbounded user-sized allocation, an error
 * path that is never handled, and a domain that nothing allocates or
 * attaches.  apu_gem_reviewed.c is the same driver after the review.
 */

#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/iova.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_dma_helper.h>
#include <drm/drm_ioctl.h>

/* uAPI, include/uapi/drm/apu_drm.h in a real tree */
struct drm_apu_gem_new {
	__u32 size;
	__u32 flags;
	__u32 handle;
	__u32 pad;
};

struct drm_apu_gem_iommu_map {
	__u64 bo_handles;		/* user pointer to __u32 GEM handles */
	__u32 bo_handle_count;
	__u32 pad;
	__u64 bo_device_addresses;	/* user pointer to __u64, filled in */
};

struct drm_apu_gem_queue {
	__u32 device;
	__u32 cmd;
	__u64 bo_handles;
	__u32 bo_handle_count;
	__u32 out_sync;
};

struct apu_gem_object {
	struct drm_gem_dma_object base;
	struct mutex lock;		/* protects the IOMMU state below */
	struct sg_table *iommu_sgt;
	unsigned int iommu_refcount;
	size_t size;
	u32 iova;
	u32 offset;
};

struct apu_device {
	struct drm_device drm;
	struct device *dev;
	struct iommu_domain *domain;
	struct iova_domain iovad;
	unsigned long iova_limit_pfn;
};

struct apu_job {
	struct kref refcount;
	struct apu_device *apu;
	struct drm_gem_object **bos;
	u32 bo_count;
};

static inline struct apu_gem_object *to_apu_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct apu_gem_object, base.base);
}

static inline struct apu_device *to_apu_device(struct drm_device *drm)
{
	return container_of(drm, struct apu_device, drm);
}

int apu_iommu_init(struct apu_device *apu)
{
	/*
	 * Only the IOVA allocator is set up; apu->domain is neither allocated
	 * nor attached, so every path that tests it below is dead code.
	 */
	if (!device_iommu_mapped(apu->dev))
		return 0;

	init_iova_domain(&apu->iovad, PAGE_SIZE, 1);
	apu->iova_limit_pfn = DMA_BIT_MASK(32) >> PAGE_SHIFT;
	return 0;
}

int apu_gem_new(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_apu_gem_new *args = data;
	struct drm_gem_dma_object *dma_obj;
	struct apu_gem_object *apu_obj;
	int ret;

	dma_obj = drm_gem_dma_create(drm, args->size);
	if (IS_ERR(dma_obj))
		return PTR_ERR(dma_obj);

	apu_obj = to_apu_bo(&dma_obj->base);
	apu_obj->size = args->size;
	apu_obj->offset = 0;
	apu_obj->iommu_refcount = 0;
	mutex_init(&apu_obj->lock);

	ret = drm_gem_handle_create(file, &dma_obj->base, &args->handle);
	drm_gem_object_put(&dma_obj->base);
	return ret;
}

int apu_gem_iommu_map(struct apu_device *apu, struct drm_gem_object *obj)
{
	struct apu_gem_object *apu_obj = to_apu_bo(obj);
	struct scatterlist *sg;
	unsigned long iova_pfn;
	u32 iova;
	int ret, i;

	mutex_lock(&apu_obj->lock);
	if (apu_obj->iommu_refcount++) {
		mutex_unlock(&apu_obj->lock);
		return 0;
	}

	apu_obj->iommu_sgt = drm_gem_dma_get_sg_table(&apu_obj->base);
	if (IS_ERR(apu_obj->iommu_sgt)) {
		mutex_unlock(&apu_obj->lock);
		return PTR_ERR(apu_obj->iommu_sgt);
	}

	/* apu_obj->size is not padded: the per-segment PAGE_ALIGN below is */
	iova_pfn = alloc_iova_fast(&apu->iovad, apu_obj->size >> PAGE_SHIFT,
				   apu->iova_limit_pfn, true);
	if (!iova_pfn) {
		dev_err(apu->dev, "no IOVA space for %zu bytes\n", apu_obj->size);
		mutex_unlock(&apu_obj->lock);
		return -ENOMEM;
	}
	apu_obj->iova = PFN_PHYS(iova_pfn);

	iova = apu_obj->iova;
	for_each_sgtable_sg(apu_obj->iommu_sgt, sg, i) {
		ret = iommu_map(apu->domain, iova, sg_phys(sg),
				PAGE_ALIGN(sg->length),
				IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);
		if (ret) {
			dev_err(apu->dev, "failed to map segment %d\n", i);
			free_iova(&apu->iovad, iova_pfn);
			mutex_unlock(&apu_obj->lock);
			return ret;
		}
		iova += PAGE_ALIGN(sg->length);
	}
	mutex_unlock(&apu_obj->lock);

	return 0;
}

void apu_gem_iommu_unmap(struct apu_device *apu, struct apu_gem_object *apu_obj)
{
	struct scatterlist *sg;
	unsigned long iova;
	int i;

	if (!apu_obj->iommu_sgt)
		return;

	mutex_lock(&apu_obj->lock);
	if (--apu_obj->iommu_refcount) {
		mutex_unlock(&apu_obj->lock);
		return;
	}

	iova = apu_obj->iova;
	for_each_sgtable_sg(apu_obj->iommu_sgt, sg, i) {
		iommu_unmap(apu->domain, iova, PAGE_ALIGN(sg->length));
		iova += PAGE_ALIGN(sg->length);
	}

	sg_free_table(apu_obj->iommu_sgt);
	kfree(apu_obj->iommu_sgt);
	apu_obj->iommu_sgt = NULL;

	free_iova(&apu->iovad, PHYS_PFN(apu_obj->iova));
	mutex_unlock(&apu_obj->lock);
}

int apu_ioctl_gem_iommu_map(struct drm_device *drm, void *data,
			    struct drm_file *file)
{
	struct apu_device *apu = to_apu_device(drm);
	struct drm_apu_gem_iommu_map *args = data;
	struct drm_gem_object **bos;
	u64 *das;
	int ret, i;

	if (!apu->domain)
		return -ENODEV;

	das = kvmalloc_array(args->bo_handle_count, sizeof(*das), GFP_KERNEL);
	if (!das)
		return -ENOMEM;

	ret = drm_gem_objects_lookup(file, u64_to_user_ptr(args->bo_handles),
				     args->bo_handle_count, &bos);
	if (ret) {
		kvfree(das);
		return ret;
	}

	for (i = 0; i < args->bo_handle_count; i++) {
		ret = apu_gem_iommu_map(apu, bos[i]);
		if (ret) {
			/* TODO: unwind the buffers mapped so far */
			break;
		}
		das[i] = to_apu_bo(bos[i])->iova + to_apu_bo(bos[i])->offset;
	}

	if (copy_to_user(u64_to_user_ptr(args->bo_device_addresses), das,
			 args->bo_handle_count * sizeof(u64))) {
		ret = -EFAULT;
		goto out;
	}

out:
	for (i = 0; i < args->bo_handle_count; i++)
		drm_gem_object_put(bos[i]);
	kvfree(bos);
	kvfree(das);

	return 0;
}

int apu_ioctl_gem_iommu_unmap(struct drm_device *drm, void *data,
			      struct drm_file *file)
{
	struct apu_device *apu = to_apu_device(drm);
	struct drm_apu_gem_iommu_map *args = data;
	struct drm_gem_object **bos;
	int ret, i;

	if (!apu->domain)
		return -ENODEV;

	ret = drm_gem_objects_lookup(file, u64_to_user_ptr(args->bo_handles),
				     args->bo_handle_count, &bos);
	if (ret)
		return ret;

	for (i = 0; i < args->bo_handle_count; i++) {
		apu_gem_iommu_unmap(apu, to_apu_bo(bos[i]));
		drm_gem_object_put(bos[i]);
	}
	kvfree(bos);

	return 0;
}

/* Called from the GEM_QUEUE ioctl: every buffer of the job is mapped on submit. */
int apu_job_submit(struct apu_device *apu, struct drm_file *file,
		   struct drm_apu_gem_queue *args, struct apu_job *job)
{
	unsigned int i;
	int ret;

	job->apu = apu;
	job->bo_count = args->bo_handle_count;
	ret = drm_gem_objects_lookup(file, u64_to_user_ptr(args->bo_handles),
				     job->bo_count, &job->bos);
	if (ret)
		return ret;

	/* The domain may go away at any time after this test: nothing holds it. */
	if (!apu->domain)
		return 0;

	for (i = 0; i < job->bo_count; i++) {
		ret = apu_gem_iommu_map(apu, job->bos[i]);
		if (ret)
			goto err_unmap;
	}
	return 0;

err_unmap:
	/* unmaps every buffer, including those that were never mapped */
	for (i = 0; i < job->bo_count; i++) {
		if (apu->domain)
			apu_gem_iommu_unmap(apu, to_apu_bo(job->bos[i]));
		drm_gem_object_put(job->bos[i]);
	}
	kvfree(job->bos);
	return ret;
}

/* kref release of a job: the buffers are unmapped once the job is done. */
static void apu_job_cleanup(struct kref *ref)
{
	struct apu_job *job = container_of(ref, struct apu_job, refcount);
	unsigned int i;

	for (i = 0; i < job->bo_count; i++) {
		if (job->apu->domain)
			apu_gem_iommu_unmap(job->apu, to_apu_bo(job->bos[i]));
		drm_gem_object_put(job->bos[i]);
	}
	kvfree(job->bos);
	kfree(job);
}

void apu_job_put(struct apu_job *job)
{
	kref_put(&job->refcount, apu_job_cleanup);
}

static const struct drm_ioctl_desc apu_ioctls[] = {
	DRM_IOCTL_DEF_DRV(APU_GEM_NEW, apu_gem_new, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(APU_GEM_IOMMU_MAP, apu_ioctl_gem_iommu_map,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(APU_GEM_IOMMU_UNMAP, apu_ioctl_gem_iommu_unmap,
			  DRM_RENDER_ALLOW),
};

DEFINE_DRM_GEM_DMA_FOPS(apu_drm_fops);

static const struct drm_driver apu_drm_driver = {
	.driver_features	= DRIVER_GEM | DRIVER_RENDER,
	.name			= "apu",
	.desc			= "APU accelerator",
	.major			= 1,
	.minor			= 0,
	.ioctls			= apu_ioctls,
	.num_ioctls		= ARRAY_SIZE(apu_ioctls),
	.fops			= &apu_drm_fops,
	DRM_GEM_DMA_DRIVER_OPS,
};

static int apu_probe(struct platform_device *pdev)
{
	struct apu_device *apu;
	int ret;

	apu = devm_drm_dev_alloc(&pdev->dev, &apu_drm_driver,
				 struct apu_device, drm);
	if (IS_ERR(apu))
		return PTR_ERR(apu);

	apu->dev = &pdev->dev;
	platform_set_drvdata(pdev, apu);

	ret = apu_iommu_init(apu);
	if (ret)
		return ret;

	return drm_dev_register(&apu->drm, 0);
}

static void apu_remove(struct platform_device *pdev)
{
	struct apu_device *apu = platform_get_drvdata(pdev);

	drm_dev_unregister(&apu->drm);
}

static const struct of_device_id apu_of_match[] = {
	{ .compatible = "mediatek,mt8183-apu" },
	{ }
};
MODULE_DEVICE_TABLE(of, apu_of_match);

static struct platform_driver apu_platform_driver = {
	.probe = apu_probe,
	.remove = apu_remove,
	.driver = {
		.name = "apu",
		.of_match_table = apu_of_match,
	},
};
module_platform_driver(apu_platform_driver);

MODULE_DESCRIPTION("APU accelerator GEM and IOMMU support (as posted)");
MODULE_LICENSE("GPL");
