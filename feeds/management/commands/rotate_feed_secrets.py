"""`manage.py rotate_feed_secrets [--dry-run]`: re-encrypt stored feed passwords with the first
key of FIELD_ENCRYPTION_KEY."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog_health.tenancy.services import audit_record
from feeds import crypto
from feeds.models import FeedRun, ProductSource

# (model, field) of every column that holds a Fernet token.
ENCRYPTED_FIELDS = (
    (ProductSource, "password_encrypted"),
    (FeedRun, "one_time_password_encrypted"),
)
BATCH = 500


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored feed password with the first key of FIELD_ENCRYPTION_KEY "
        "(comma-separated keys: the first encrypts, all decrypt). Run it after putting a new "
        "key first; then the old keys can be removed. Idempotent; exits non-zero when a "
        "password cannot be decrypted by any configured key (that row is left as it was)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")

    def handle(self, *args, dry_run: bool = False, **options):
        rotated = current = unreadable = 0
        failed: list[str] = []
        for model, field in ENCRYPTED_FIELDS:
            ids = list(
                model.objects.exclude(**{field: ""}).order_by("pk").values_list("pk", flat=True)
            )
            for start in range(0, len(ids), BATCH):
                with transaction.atomic():
                    rows = (
                        model.objects.select_for_update()
                        .filter(pk__in=ids[start : start + BATCH])
                        .exclude(**{field: ""})
                        .only("pk", field)
                    )
                    for row in rows:
                        token = getattr(row, field)
                        if crypto.encrypted_with_first_key(token):
                            current += 1
                            continue
                        try:
                            new_token = crypto.rotate(token)
                        except ValueError:
                            unreadable += 1
                            failed.append(f"{model._meta.label} #{row.pk}")
                            continue
                        rotated += 1
                        if not dry_run:
                            model.objects.filter(pk=row.pk).update(**{field: new_token})
        if not dry_run and rotated:
            audit_record(
                tenant=None,
                actor=None,
                action="feed_secrets.rotated",
                changes={"rotated": rotated, "unreadable": unreadable},
            )
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(
            f"{verb} {rotated}, already on the first key {current}, unreadable {unreadable}"
        )
        if failed:
            raise CommandError(
                "no configured key decrypts: "
                + ", ".join(failed[:20])
                + (" …" if len(failed) > 20 else "")
                + " (add the key they were encrypted with to FIELD_ENCRYPTION_KEY, or re-enter "
                "those passwords)"
            )
