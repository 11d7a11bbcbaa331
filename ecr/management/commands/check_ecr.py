"""`manage.py check_ecr [--catalog ID]`: evaluate ECR and print ratio, thresholds, state."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ecr import services
from ecr.models import EcrTrigger, ReviewSettings

from ._common import catalogs_from


class Command(BaseCommand):
    help = "Evaluate each catalog's ECR state and print its ratio, thresholds and state."

    def add_arguments(self, parser):
        parser.add_argument("--catalog", type=int, help="only this catalog id")

    def handle(self, *args, **options):
        pairs = catalogs_from(options)
        settings = ReviewSettings.current()
        self.stdout.write(
            f"{'catalog':>8}  {'tenant':<20} {'name':<28} {'available':>17} {'ratio':>7} "
            f"{'off<':>5} {'on>=':>5}  state"
        )
        for tenant, catalog in pairs:
            d = services.ecr_evaluate(tenant=tenant, catalog=catalog, trigger=EcrTrigger.MANUAL)
            ecr = services.ecr_state_get(tenant=tenant, catalog=catalog)
            t = services.thresholds_for(ecr=ecr, settings=settings)
            ratio = f"{d.ratio:.1%}" if d.ratio is not None else "—"
            state = "ENABLED" if d.enabled else "DISABLED"
            if d.changed:
                state += " (changed)"
            elif not d.evaluated:
                state += f" (not evaluated: fewer than {t.min_products} products)"
            counts = f"{ecr.available_count}/{ecr.active_count}"
            self.stdout.write(
                f"{catalog.pk:>8}  {tenant.slug[:20]:<20} {catalog.name[:28]:<28} {counts:>17} "
                f"{ratio:>7} {float(t.disable):>5.0%} {float(t.enable):>5.0%}  {state}"
            )
