"""`manage.py run_review [--catalog ID]`: drain the standard review queue (operators)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ecr import services
from ecr.models import ReviewSettings

from ._common import catalogs_from


class Command(BaseCommand):
    help = (
        "Review the Pending products of each catalog (or of --catalog), oldest first, in cycles "
        "of the admin-set queue capacity until none is left, then evaluate ECR."
    )

    def add_arguments(self, parser):
        parser.add_argument("--catalog", type=int, help="only this catalog id")
        parser.add_argument(
            "--capacity", type=int, help="products per cycle (default: the admin setting)"
        )

    def handle(self, *args, **options):
        capacity = options.get("capacity") or ReviewSettings.current().standard_queue_capacity
        for tenant, catalog in catalogs_from(options):
            reviewed = unavailable = 0
            while True:
                r = services.review_queue_drain(tenant=tenant, catalog=catalog, capacity=capacity)
                reviewed += r.reviewed
                unavailable += r.unavailable
                if r.reviewed < capacity:
                    break
            ecr = services.ecr_state_get(tenant=tenant, catalog=catalog)
            ratio = f"{ecr.ratio:.1%}" if ecr.ratio is not None else "—"
            self.stdout.write(
                f"{catalog.pk} {tenant.slug}/{catalog.name}: reviewed {reviewed} "
                f"({unavailable} Unavailable); ECR {'enabled' if ecr.enabled else 'disabled'}, "
                f"ratio {ratio}"
            )
