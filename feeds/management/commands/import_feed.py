"""`manage.py import_feed --catalog CATALOG_ID [--mode replace|update] PATH_OR_URL`."""

from django.core.management.base import BaseCommand, CommandError

from catalogs.models import Catalog
from feeds import services
from feeds.models import RunStatus, UpdateMode


class Command(BaseCommand):
    help = (
        "Import a product feed (file path or http(s) URL) into a catalog synchronously, with "
        "the same pipeline as scheduled pulls. Prints a one-line summary; exits non-zero on "
        "failure."
    )

    def add_arguments(self, parser):
        parser.add_argument("--catalog", type=int, required=True, help="catalog id")
        parser.add_argument(
            "--mode", choices=UpdateMode.values, default=UpdateMode.REPLACE, help="default: replace"
        )
        parser.add_argument("location", metavar="PATH_OR_URL")

    def handle(self, *args, catalog, mode, location, **options):
        scheme = location.split("://", 1)[0].lower() if "://" in location else ""
        if scheme and scheme not in ("http", "https"):
            # sftp needs a stored login and a pinned host key: a product source keeps both
            raise CommandError(
                f"import_feed takes a file path or an http(s) URL, not {scheme}://. To import "
                "over sftp, add an sftp product source to the catalog (it keeps the login and "
                "the server's host key) and use Request Data Now, or download the file and "
                "import its path."
            )
        # Operators act across tenants: the catalog id names its tenant.
        found = Catalog.objects.select_related("tenant").filter(pk=catalog).first()
        if found is None:
            raise CommandError(f"No catalog with id {catalog}.")
        tenant = found.tenant
        run = services.feed_import_command(
            tenant=tenant, catalog=found, location=location, mode=mode
        )
        summary = (
            f"run #{run.pk} {run.status}: received {run.received}, created {run.created}, "
            f"updated {run.updated}, unchanged {run.unchanged}, removed {run.removed}, "
            f"rejected {run.rejected}, warnings {run.warnings}"
        )
        if run.status in (RunStatus.SUCCEEDED, RunStatus.UNCHANGED):
            self.stdout.write(summary)
            return
        raise CommandError(f"{summary} — {run.error_message}")
