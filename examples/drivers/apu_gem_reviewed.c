// SPDX-License-Identifier: GPL-2.0
/*
 * APU accelerator: GEM buffers and their IOMMU mappings, after the review.
 *
 * Example input for IOMMU Lens: apu_gem.c with what the reviewers asked for.
 * The firmware wants fixed device addresses, so the driver owns its IOVA
 * space: a paging domain allocated and attached at probe (it lives until
 * remove) and drm_mm instead of the DMA-API IOVA allocator. Sizes follow the
 * IOMMU granule, one iommu_map_sgtable()/iommu_unmap() covers a buffer,
 * addresses are 64-bit, user counts are bounded and every error path unwinds
 * and returns its error. A device on its own domain must not use the DMA API
 * (seed 002), so it has to be cache-coherent.
 */

#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_mm.h>

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

#define APU_MAX_BOS_PER_CALL	256
#define APU_IOVA_BASE		SZ_16M
#define APU_IOVA_SIZE		(SZ_4G - SZ_16M)

struct apu_gem_object {
	struct drm_gem_shmem_object base;
	struct mutex lock;		/* protects the IOMMU state below */
	struct sg_table *sgt;
	struct drm_mm_node iova_node;
	unsigned int iommu_refcount;
	dma_addr_t iova;
};

struct apu_device {
	struct drm_device drm;
	struct device *dev;
	struct iommu_domain *domain;	/* probe to remove */
	struct drm_mm iova_space;
	struct mutex iova_lock;		/* protects iova_space */
	unsigned long granule;		/* smallest IOMMU page size */
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
	int ret;

	if (device_get_dma_attr(apu->dev) != DEV_DMA_COHERENT)
		return dev_err_probe(apu->dev, -EOPNOTSUPP,
				     "APU must be cache-coherent to use its own domain\n");

	apu->domain = iommu_paging_domain_alloc(apu->dev);
	if (IS_ERR(apu->domain)) {
		ret = PTR_ERR(apu->domain);
		apu->domain = NULL;
		return ret;
	}

	ret = iommu_attach_device(apu->domain, apu->dev);
	if (ret) {
		iommu_domain_free(apu->domain);
		apu->domain = NULL;
		return ret;
	}

	/* Addresses are handed out in the IOMMU's granule, whatever PAGE_SIZE is. */
	apu->granule = 1UL << __ffs(apu->domain->pgsize_bitmap);
	drm_mm_init(&apu->iova_space, APU_IOVA_BASE, APU_IOVA_SIZE);
	mutex_init(&apu->iova_lock);
	return 0;
}

void apu_iommu_fini(struct apu_device *apu)
{
	drm_mm_takedown(&apu->iova_space);
	iommu_detach_device(apu->domain, apu->dev);
	iommu_domain_free(apu->domain);
	apu->domain = NULL;
}

struct drm_gem_object *apu_gem_create_object(struct drm_device *drm, size_t size)
{
	struct apu_gem_object *apu_obj;

	apu_obj = kzalloc(sizeof(*apu_obj), GFP_KERNEL);
	if (!apu_obj)
		return ERR_PTR(-ENOMEM);

	mutex_init(&apu_obj->lock);
	return &apu_obj->base.base;
}

int apu_gem_new(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_apu_gem_new *args = data;
	struct drm_gem_shmem_object *shmem;
	int ret;

	if (!args->size)
		return -EINVAL;

	shmem = drm_gem_shmem_create(drm, args->size);
	if (IS_ERR(shmem))
		return PTR_ERR(shmem);

	ret = drm_gem_handle_create(file, &shmem->base, &args->handle);
	drm_gem_object_put(&shmem->base);
	return ret;
}

int apu_gem_iommu_map(struct apu_device *apu, struct drm_gem_object *obj)
{
	struct apu_gem_object *apu_obj = to_apu_bo(obj);
	struct sg_table *sgt;
	ssize_t mapped;
	size_t size;
	int ret;

	mutex_lock(&apu_obj->lock);
	if (apu_obj->iommu_refcount) {
		apu_obj->iommu_refcount++;
		mutex_unlock(&apu_obj->lock);
		return 0;
	}

	ret = drm_gem_shmem_pin(&apu_obj->base);
	if (ret)
		goto err_unlock;

	/* The page list only: no DMA-API mapping for a device on its own domain. */
	sgt = drm_gem_shmem_get_sg_table(&apu_obj->base);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto err_unpin;
	}

	size = ALIGN(obj->size, apu->granule);
	mutex_lock(&apu->iova_lock);
	ret = drm_mm_insert_node_generic(&apu->iova_space, &apu_obj->iova_node,
					 size, apu->granule, 0, DRM_MM_INSERT_BEST);
	mutex_unlock(&apu->iova_lock);
	if (ret)
		goto err_free_sgt;

	/*
	 * One call for the whole table: it merges contiguous pages, uses the
	 * largest IOMMU pages it can and undoes everything if it fails.
	 */
	mapped = iommu_map_sgtable(apu->domain, apu_obj->iova_node.start, sgt,
				   IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE);
	if (mapped < 0) {
		ret = mapped;
		goto err_remove_node;
	}

	apu_obj->sgt = sgt;
	apu_obj->iova = apu_obj->iova_node.start;
	apu_obj->iommu_refcount = 1;
	mutex_unlock(&apu_obj->lock);
	return 0;

err_remove_node:
	mutex_lock(&apu->iova_lock);
	drm_mm_remove_node(&apu_obj->iova_node);
	mutex_unlock(&apu->iova_lock);
err_free_sgt:
	sg_free_table(sgt);
	kfree(sgt);
err_unpin:
	drm_gem_shmem_unpin(&apu_obj->base);
err_unlock:
	mutex_unlock(&apu_obj->lock);
	return ret;
}

void apu_gem_iommu_unmap(struct apu_device *apu, struct apu_gem_object *apu_obj)
{
	size_t unmapped;

	mutex_lock(&apu_obj->lock);
	if (WARN_ON(!apu_obj->iommu_refcount) || --apu_obj->iommu_refcount) {
		mutex_unlock(&apu_obj->lock);
		return;
	}

	/* The buffer is one IOVA-contiguous range: one call removes it. */
	unmapped = iommu_unmap(apu->domain, apu_obj->iova, apu_obj->iova_node.size);
	WARN_ON(unmapped < apu_obj->base.base.size);

	mutex_lock(&apu->iova_lock);
	drm_mm_remove_node(&apu_obj->iova_node);
	mutex_unlock(&apu->iova_lock);

	sg_free_table(apu_obj->sgt);
	kfree(apu_obj->sgt);
	apu_obj->sgt = NULL;
	apu_obj->iova = 0;
	drm_gem_shmem_unpin(&apu_obj->base);
	mutex_unlock(&apu_obj->lock);
}

int apu_ioctl_gem_iommu_map(struct drm_device *drm, void *data,
			    struct drm_file *file)
{
	struct apu_device *apu = to_apu_device(drm);
	struct drm_apu_gem_iommu_map *args = data;
	struct drm_gem_object **bos;
	u64 *das;
	u32 i;
	int ret;

	if (!args->bo_handle_count || args->bo_handle_count > APU_MAX_BOS_PER_CALL)
		return -EINVAL;

	das = kvmalloc_array(args->bo_handle_count, sizeof(*das), GFP_KERNEL);
	if (!das)
		return -ENOMEM;

	ret = drm_gem_objects_lookup(file, u64_to_user_ptr(args->bo_handles),
				     args->bo_handle_count, &bos);
	if (ret)
		goto out_free;

	for (i = 0; i < args->bo_handle_count; i++) {
		ret = apu_gem_iommu_map(apu, bos[i]);
		if (ret)
			goto err_unmap;
		das[i] = to_apu_bo(bos[i])->iova;
	}

	if (copy_to_user(u64_to_user_ptr(args->bo_device_addresses), das,
			 array_size(args->bo_handle_count, sizeof(*das)))) {
		ret = -EFAULT;
		goto err_unmap;
	}
	goto out_put;

err_unmap:
	while (i--)
		apu_gem_iommu_unmap(apu, to_apu_bo(bos[i]));
out_put:
	for (i = 0; i < args->bo_handle_count; i++)
		drm_gem_object_put(bos[i]);
	kvfree(bos);
out_free:
	kvfree(das);
	return ret;
}

int apu_ioctl_gem_iommu_unmap(struct drm_device *drm, void *data,
			      struct drm_file *file)
{
	struct apu_device *apu = to_apu_device(drm);
	struct drm_apu_gem_iommu_map *args = data;
	struct drm_gem_object **bos;
	u32 i;
	int ret;

	if (!args->bo_handle_count || args->bo_handle_count > APU_MAX_BOS_PER_CALL)
		return -EINVAL;

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

	if (!args->bo_handle_count || args->bo_handle_count > APU_MAX_BOS_PER_CALL)
		return -EINVAL;

	job->apu = apu;
	job->bo_count = args->bo_handle_count;
	ret = drm_gem_objects_lookup(file, u64_to_user_ptr(args->bo_handles),
				     job->bo_count, &job->bos);
	if (ret)
		return ret;

	for (i = 0; i < job->bo_count; i++) {
		ret = apu_gem_iommu_map(apu, job->bos[i]);
		if (ret)
			goto err_unmap;
	}
	return 0;

err_unmap:
	/* only the buffers mapped before the failure */
	while (i--)
		apu_gem_iommu_unmap(apu, to_apu_bo(job->bos[i]));
	for (i = 0; i < job->bo_count; i++)
		drm_gem_object_put(job->bos[i]);
	kvfree(job->bos);
	job->bos = NULL;
	return ret;
}

/* kref release of a job: the buffers are unmapped once the job is done. */
static void apu_job_cleanup(struct kref *ref)
{
	struct apu_job *job = container_of(ref, struct apu_job, refcount);
	unsigned int i;

	for (i = 0; i < job->bo_count; i++) {
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

DEFINE_DRM_GEM_FOPS(apu_drm_fops);

static const struct drm_driver apu_drm_driver = {
	.driver_features	= DRIVER_GEM | DRIVER_RENDER,
	.name			= "apu",
	.desc			= "APU accelerator",
	.major			= 1,
	.minor			= 1,
	.ioctls			= apu_ioctls,
	.num_ioctls		= ARRAY_SIZE(apu_ioctls),
	.fops			= &apu_drm_fops,
	.gem_create_object	= apu_gem_create_object,
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

	ret = drm_dev_register(&apu->drm, 0);
	if (ret)
		apu_iommu_fini(apu);
	return ret;
}

static void apu_remove(struct platform_device *pdev)
{
	struct apu_device *apu = platform_get_drvdata(pdev);

	/* drm_dev_unregister() waits for open files, and with them their jobs. */
	drm_dev_unregister(&apu->drm);
	apu_iommu_fini(apu);
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

MODULE_DESCRIPTION("APU accelerator GEM and IOMMU support (after review)");
MODULE_LICENSE("GPL");
