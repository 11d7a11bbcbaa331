"""`manage.py create_tenant SLUG --name NAME --owner USERNAME [--password P]` for operators."""

import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant and its owner (the user is created if missing)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the tenant's name in its pages' addresses: /t/SLUG/")
        parser.add_argument("--name", required=True, help="the tenant's name as people read it")
        parser.add_argument("--owner", required=True, help="username of the owner")
        parser.add_argument("--email", default="", help="email of a new owner")
        parser.add_argument("--password", help="password for a new owner (prompted if omitted)")
        parser.add_argument(
            "--time-zone", default="UTC", help="feed schedules and order times (default: UTC)"
        )
        parser.add_argument(
            "--currency", default="USD", help="currency of new catalogs (default: USD)"
        )

    def handle(self, *args, slug, name, owner, email, password, time_zone, currency, **options):
        User = get_user_model()
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"A tenant with slug {slug!r} already exists.")
        with transaction.atomic():
            user = User.objects.filter(username=owner).first()
            if user is None:
                if password is None:
                    if not options.get("interactive", True) or not self.stdin_is_tty():
                        raise CommandError(
                            f"User {owner!r} does not exist: pass --password to create it."
                        )
                    password = self.prompt_password()
                user = User(username=owner, email=email)
                try:
                    validate_password(password, user)
                except ValidationError as exc:
                    raise CommandError("Password rejected: " + " ".join(exc.messages)) from exc
                user.set_password(password)
                user.save()
                self.stdout.write(f"Created user {owner}.")
            try:
                tenant = tenant_create(
                    slug=slug, name=name, owner=user, time_zone=time_zone, currency=currency
                )
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Created tenant {tenant.slug} ({tenant.name}) owned by {owner}.")
        )

    @staticmethod
    def stdin_is_tty() -> bool:
        import sys

        return sys.stdin.isatty()

    def prompt_password(self) -> str:
        first = getpass.getpass("Password for the new owner: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return first
