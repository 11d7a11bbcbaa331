"""Demo review data: per tenant, the first catalog healthy (ECR on), the second with a
realistic mix of issues that turned ECR off, with 14 days of ratio history, ECR events and
review timings for both lanes. Deterministic and idempotent."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from catalog_health.tenancy.models import AuditEvent
from catalogs.models import Catalog, Product, ReviewStatus

from . import selectors, services
from .models import CatalogEcrState, EcrEvent, EcrTrigger, RatioSample, ReviewBatch, ReviewLane

# Problems of the "issues" catalog, on top of the catalogs demo's own ~15 %.
POLICY_TITLES = [
    "{t} – designer replica",
    "{t} (knockoff of the famous brand)",
    "{t} with CBD infusion",
    "{t} — online casino bonus edition",
]
DENIED_DESCRIPTIONS = [
    "Clinically shown to boost energy. This product cures cancer and has no side effects.",
    "Guaranteed results in one week or your money back.",
    "Lose weight fast while you sleep!",
]


def _spoil(tenant, catalog, *, rng: random.Random, share: float) -> int:
    """Give about ``share`` of the catalog's products an issue a seller would meet."""
    products = list(
        Product.objects.for_tenant(tenant)
        .filter(catalog=catalog)
        .order_by("id")
        .only("id", "title", "description", "image_link", "price", "sale_price", "gtin")
    )
    spoiled = []
    for p in products:
        if rng.random() >= share:
            continue
        kind = rng.randrange(6)
        if kind == 0:
            p.title = rng.choice(POLICY_TITLES).format(t=p.title)
        elif kind == 1:
            p.description = rng.choice(DENIED_DESCRIPTIONS)
        elif kind == 2:
            p.image_link = p.image_link.rsplit(".", 1)[0] + ".pdf"
        elif kind == 3:
            p.sale_price = (p.price or 0) + 5
        elif kind == 4:
            p.gtin = "2" + p.gtin[1:] if p.gtin else "123"
        else:
            p.title = p.title.upper() + " 🔥 BEST DEAL!!!"
        p.last_changed_at = timezone.now()  # as the feed run that brought the change
        spoiled.append(p)
    Product.objects.bulk_update(
        spoiled,
        ["title", "description", "image_link", "sale_price", "gtin", "last_changed_at"],
        batch_size=1000,
    )
    return len(spoiled)


def _history(tenant, catalog, *, rng: random.Random, end_ratio: float, falls: bool) -> None:
    """14 days of ratio samples and review timings; for a falling catalog, the day ECR
    turned off."""
    now = timezone.now()
    ecr = services.ecr_state_get(tenant=tenant, catalog=catalog)
    t = services.thresholds_for(ecr=ecr, settings=services.ReviewSettings.current())
    active = ecr.active_count or 1
    samples, batches = [], []
    for h in range(14 * 24, 0, -6):
        at = now - timedelta(hours=h)
        progress = 1 - h / (14 * 24)
        ratio = (0.95 - (0.95 - end_ratio) * progress) if falls else end_ratio
        ratio = min(1.0, max(0.0, ratio + rng.uniform(-0.01, 0.01)))
        # Once below the disable threshold it stays off (the band up to enable keeps it off).
        was_off = bool(samples) and not samples[-1].enabled
        enabled = not falls or not (was_off or ratio < float(t.disable))
        samples.append(
            RatioSample(
                tenant=tenant,
                catalog=catalog,
                ratio=ratio,
                active_count=active,
                available_count=int(ratio * active),
                enabled=enabled,
                trigger=EcrTrigger.PERIODIC,
            )
        )
        lane = ReviewLane.FAST if enabled else ReviewLane.STANDARD
        n = rng.randint(20, 120)
        wait = rng.uniform(1, 8) if lane == ReviewLane.FAST else rng.uniform(2, 14) * 3600
        batches.append(
            ReviewBatch(
                tenant=tenant,
                catalog=catalog,
                lane=lane,
                trigger=EcrTrigger.REVIEW,
                started_at=at,
                finished_at=at + timedelta(seconds=2),
                reviewed=n,
                available=int(n * ratio),
                unavailable=n - int(n * ratio),
                wait_count=n,
                wait_total_seconds=wait * n,
                wait_max_seconds=wait * 2.5,
            )
        )
    made = RatioSample.objects.bulk_create(samples)
    ReviewBatch.objects.bulk_create(batches)
    # auto_now_add set "now": move each sample to its own time.
    for sample, h in zip(made, range(14 * 24, 0, -6), strict=True):
        RatioSample.objects.for_tenant(tenant).filter(pk=sample.pk).update(
            at=now - timedelta(hours=h)
        )
    # The day before, a feed run: its issue counts make the Diagnostics trend column speak.
    current = selectors.issue_counts_by_code(tenant=tenant, catalog=catalog)
    RatioSample.objects.for_tenant(tenant).filter(catalog=catalog, pk=made[-4].pk).update(
        trigger=EcrTrigger.FEED_RUN,
        issue_counts={
            code: max(0, n - rng.randint(-3, 9) if falls else n + rng.randint(0, 4))
            for code, n in current.items()
        },
    )
    if falls:
        # ECR turned off at the first sample below the disable threshold.
        idx = next((i for i, x in enumerate(samples) if not x.enabled), len(samples) - 1)
        first_below = samples[idx]
        off_at = now - timedelta(hours=14 * 24 - idx * 6)
        event = EcrEvent.objects.for_tenant(tenant).filter(catalog=catalog).first()
        if event is not None:
            EcrEvent.objects.for_tenant(tenant).filter(pk=event.pk).update(
                created_at=off_at,
                ratio=first_below.ratio,
                available_count=first_below.available_count,
            )
            CatalogEcrState.objects.for_tenant(tenant).filter(catalog=catalog).update(
                changed_at=off_at
            )
            # The audit entry the evaluation wrote with the event moves with it, or the
            # members page's Recent activity tells another time and share than the ECR tab.
            entry = (
                AuditEvent.objects.for_tenant(tenant)
                .filter(
                    action="ecr.disabled",
                    target_type=catalog._meta.label,
                    target_id=str(catalog.pk),
                )
                .order_by("-created_at")
                .first()
            )
            if entry is not None:
                AuditEvent.objects.for_tenant(tenant).filter(pk=entry.pk).update(
                    created_at=off_at, changes={**entry.changes, "ratio": first_below.ratio}
                )


@transaction.atomic
def seed_demo(*, tenants, stdout) -> None:
    for t_index, tenant in enumerate(tenants):
        catalogs = list(Catalog.objects.for_tenant(tenant).order_by("pk")[:2])
        for c_index, catalog in enumerate(catalogs):
            existing = CatalogEcrState.objects.for_tenant(tenant).filter(catalog=catalog).first()
            if existing is not None and existing.evaluated_at is not None:
                stdout.write(f"  {tenant.slug}/{catalog.name}: already reviewed")
                continue
            rng = random.Random(1000 + t_index * 10 + c_index)
            with_issues = c_index == 1
            if with_issues:
                _spoil(tenant, catalog, rng=rng, share=0.30)
            # Pending since a few minutes (feed ingest) for a realistic fast-lane wait.
            Product.objects.for_tenant(tenant).filter(
                catalog=catalog, review_status=ReviewStatus.PENDING
            ).update(review_requested_at=timezone.now() - timedelta(seconds=rng.randint(2, 9)))
            out = services.review_after_feed_run(tenant=tenant, catalog=catalog)
            if with_issues:
                # A few sellers' fixes now wait in the standard queue (ECR is off).
                waiting = list(
                    Product.objects.for_tenant(tenant)
                    .filter(catalog=catalog, review_status=ReviewStatus.UNAVAILABLE)
                    .order_by("id")
                    .values_list("id", flat=True)[:40]
                )
                for i, pid in enumerate(waiting):
                    Product.objects.for_tenant(tenant).filter(pk=pid).update(
                        review_status=ReviewStatus.PENDING,
                        review_requested_at=timezone.now() - timedelta(minutes=20 + 17 * i),
                    )
                services.ecr_evaluate(tenant=tenant, catalog=catalog, trigger=EcrTrigger.PERIODIC)
            _history(
                tenant,
                catalog,
                rng=rng,
                end_ratio=out.ratio if out.ratio is not None else 1.0,
                falls=with_issues,
            )
            state = "enabled" if out.ecr_enabled else "DISABLED"
            stdout.write(
                f"  {tenant.slug}/{catalog.name}: reviewed {out.reviewed}, "
                f"{out.unavailable} Unavailable, ECR {state}"
            )
