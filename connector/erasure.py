"""Erasing a shop's data (shop/redact): its rows at once, its photos' bytes by a queued job."""

from __future__ import annotations

from sqlalchemy import delete, or_, select

from connector.enqueue import enqueue, job_key
from connector.models import Image, ImageVersion, Job, Run, Store, WebhookEventRecord
from connector.services import Services


def erase_store(services: Services, store_id: int) -> None:
    """shop/redact: delete everything held about a shop.

    Its rows go now (products, images, versions, operations and runs cascade; its webhook
    records and job records are deleted with them); its photos' bytes are deleted by a queued
    job, so the platform gets its answer within seconds.
    """
    with services.session() as s:
        store = s.get(Store, store_id)
        if store is None:
            return
        digests = set(
            s.scalars(
                select(ImageVersion.blob_hash)
                .join(Image, Image.id == ImageVersion.image_id)
                .where(Image.store_id == store_id)
            )
        )
        product_syncs = job_key(services.settings.redis_namespace, job_key("sync-product", store_id)) + "-"
        s.execute(
            delete(Job).where(
                or_(
                    Job.run_id.in_(select(Run.id).where(Run.store_id == store_id)),
                    Job.image_id.in_(select(Image.id).where(Image.store_id == store_id)),
                    Job.id.startswith(product_syncs, autoescape=True),
                )
            )
        )
        s.execute(
            delete(WebhookEventRecord).where(
                WebhookEventRecord.platform == store.platform, WebhookEventRecord.shop == store.domain
            )
        )
        s.execute(delete(Store).where(Store.id == store_id))
    if digests:
        enqueue(
            services,
            "erase_blobs_job",
            sorted(digests),
            job_id=job_key("erase-blobs", store_id),
            kind="erase",
        )
