"""`manage.py score_flags [--tenant SLUG]`: score now, in this process (no worker needed)."""

from django.core.management.base import BaseCommand, CommandError

from catalog_health.tenancy.models import Tenant
from flagged.services import flags_score


class Command(BaseCommand):
    help = "Score flagged products for one tenant (--tenant SLUG) or every tenant."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="tenant slug (default: every tenant)")

    def handle(self, *args, tenant=None, **options):
        tenants = Tenant.objects.order_by("slug")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant with slug {tenant!r}.")
        for t in tenants:
            result = flags_score(tenant=t)
            self.stdout.write(
                f"{t.slug}: {result.changed_states} states changed, "
                f"{result.transitions} transitions, {result.seconds:.2f} s"
            )
