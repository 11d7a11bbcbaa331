"""`manage.py run_review [--catalog ID] [--capacity N] [--rules-changed]`: drain the standard
review queue, or re-review after the review rules changed outside admin (operators)."""

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
        parser.add_argument(
            "--rules-changed",
            action="store_true",
            help="the policy terms, denied claims or review limits were changed outside "
            "Django admin (loaddata, a shell): review every catalog's reviewed products again "
            "now, as a change in admin has the workers do",
        )

    def handle(self, *args, **options):
        if options.get("rules_changed"):
            self._rules_changed()
            return
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

    def _rules_changed(self) -> None:
        services.review_rules_changed(queue=False)  # reviewed here, not by a worker
        reviewed = services.rules_rereview_all()
        if services.catalogs_behind_rules():
            self.stdout.write(
                "A re-review is already running on a worker; it takes this change too."
            )
            return
        self.stdout.write(f"Rules changed: reviewed {reviewed} products again.")
