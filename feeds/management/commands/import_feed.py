"""`manage.py import_feed --catalog CATALOG_ID [--mode replace|update] [--force] PATH_OR_URL`."""

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from catalog_health.site import absolute_url
from catalogs.models import Catalog
from feeds import selectors, services
from feeds.models import RunStatus, UpdateMode
from feeds.parsing import FeedError

ROW_ERRORS_SHOWN = 200


class Command(BaseCommand):
    help = (
        "Import a product feed (file path or http(s) URL) into a catalog synchronously, with "
        "the same pipeline as scheduled pulls: records unchanged since the catalog's last "
        "pull are skipped unread and the changed products reviewed in the same pass. Prints "
        "a one-line summary; exits non-zero on failure."
    )

    def add_arguments(self, parser):
        parser.add_argument("--catalog", type=int, required=True, help="catalog id")
        parser.add_argument(
            "--mode", choices=UpdateMode.values, default=UpdateMode.REPLACE, help="default: replace"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="read every record, also those unchanged since the last pull",
        )
        parser.add_argument("location", metavar="PATH_OR_URL")

    def handle(self, *args, catalog, mode, location, force=False, **options):
        # Operators act across tenants: the catalog id names its tenant.
        found = Catalog.objects.select_related("tenant").filter(pk=catalog).first()
        if found is None:
            raise CommandError(f"No catalog with id {catalog}.")
        tenant = found.tenant
        try:
            run = services.feed_import_command(
                tenant=tenant, catalog=found, location=location, mode=mode, force=force
            )
        except FeedError as exc:
            raise CommandError(str(exc)) from exc
        # a held run removed nothing: its count is of the removals waiting for confirmation
        removed = "removals held" if run.status == RunStatus.NEEDS_CONFIRMATION else "removed"
        summary = (
            f"run #{run.number} {run.status}: received {run.received}, created {run.created}, "
            f"updated {run.updated}, unchanged {run.unchanged}, {removed} {run.removed}, "
            f"rejected {run.rejected}, warnings {run.warnings}"
        )
        self._row_errors(tenant, run)
        if run.status in (RunStatus.SUCCEEDED, RunStatus.UNCHANGED):
            self.stdout.write(summary)
            return
        if run.status == RunStatus.NEEDS_CONFIRMATION:
            raise CommandError(f"{summary} — {run.error_message} {_where_to_confirm(tenant, run)}")
        raise CommandError(f"{summary} — {run.error_message}")

    def _row_errors(self, tenant, run) -> None:
        """The run's row errors and warnings on stderr, as its page lists them (the summary
        alone stays on stdout for scripts)."""
        rows = list(selectors.run_row_errors(tenant=tenant, run=run)[: ROW_ERRORS_SHOWN + 1])
        for row in rows[:ROW_ERRORS_SHOWN]:
            sku = f" ({row.sku})" if row.sku else ""
            field = f" {row.field}:" if row.field else ""
            self.stderr.write(f"line {row.line}{sku} {row.severity}{field} {row.message}")
        if len(rows) > ROW_ERRORS_SHOWN:
            self.stderr.write(f"… the first {ROW_ERRORS_SHOWN} shown; the run's page lists all")


def _where_to_confirm(tenant, run) -> str:
    """A held run waits for someone: say where, since a shell has no button."""
    page = absolute_url(
        reverse("feeds:run_detail", kwargs={"tenant_slug": tenant.slug, "run_id": run.pk})
    )
    return (
        f"Confirm or discard it on its page, {page}, or over the API: "
        f'POST /api/v1/runs/{run.pk}/confirm/ {{"removal_digest": '
        f'"{run.held_removals_digest}"}} (or .../discard/).'
    )
