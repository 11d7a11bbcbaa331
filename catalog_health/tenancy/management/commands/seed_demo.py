"""`manage.py seed_demo`: two tenants, one user per role, catalogs, products, and whatever
each app's registered demo provider adds (catalog_health.tenancy.demo). Idempotent:
running it again adds nothing twice."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from catalog_health.tenancy import demo
from catalog_health.tenancy.models import Membership, Tenant
from catalog_health.tenancy.roles import Role

DEMO_PASSWORD = "catalog-demo"  # noqa: S105 -- documented demo login, demo data only
DEMO_TENANTS = [
    ("acme", "Acme Outfitters", "America/New_York", "USD"),
    ("globex", "Globex Europe", "Europe/Berlin", "EUR"),
]


class Command(BaseCommand):
    help = "Load demo tenants, users (one per role), catalogs and data. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=1500, help="products per catalog")

    def handle(self, *args, products, **options):
        User = get_user_model()
        with transaction.atomic():
            tenants = []
            for slug, name, tz, currency in DEMO_TENANTS:
                tenant, _ = Tenant.objects.get_or_create(
                    slug=slug, defaults={"name": name, "time_zone": tz, "currency": currency}
                )
                tenants.append(tenant)
            staff, created = User.objects.get_or_create(
                username="staff", defaults={"is_staff": True, "is_superuser": True}
            )
            if created:
                staff.set_password(DEMO_PASSWORD)
                staff.save()
            for role in Role.values:
                user, created = User.objects.get_or_create(
                    username=role, defaults={"email": f"{role}@example.com"}
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                for tenant in tenants:
                    Membership.objects.get_or_create(
                        tenant=tenant, user=user, defaults={"role": role}
                    )
        self.stdout.write("Tenants: " + ", ".join(t.slug for t in tenants))
        for provider in demo.providers():
            self.stdout.write(f"{provider.app}:")
            kwargs = {"products_per_catalog": products} if provider.takes_product_count else {}
            # Seeding replays ECR changes and digests; the demo users must not be mailed.
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                provider.seed(tenants=tenants, stdout=self.stdout, **kwargs)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Log in as owner, admin, advertiser, seller, viewer or staff "
                f"(password {DEMO_PASSWORD!r})."
            )
        )
