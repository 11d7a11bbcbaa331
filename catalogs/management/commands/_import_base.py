"""Shared body of import_orders / import_impressions."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalogs import events
from catalogs.models import Catalog
from catalogs.order_formats import text_file_as_utf8
from catalogs.order_io import FileError


class ImportCommand(BaseCommand):
    kind = ""
    # read from the path chunk by chunk (memory bounded) instead of loading the file
    pass_path = False
    columns: tuple[str, ...] = ()

    def add_arguments(self, parser):
        parser.add_argument("--catalog", type=int, required=True, help="catalog id")
        parser.add_argument("file", help="the file (see the command's docstring)")
        parser.add_argument(
            "--no-score", action="store_true", help="do not queue a flag scoring afterwards"
        )

    def importer(self):
        raise NotImplementedError

    def handle(self, *args, catalog, file, no_score, **options):
        self.options = options
        try:
            cat = Catalog.objects.select_related("tenant").get(pk=catalog)
        except Catalog.DoesNotExist as exc:
            raise CommandError(f"No catalog with id {catalog}.") from exc
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file.")
        # spreadsheets' other encodings (UTF-16, Windows-1252) are read as the UTF-8 they
        # mean, as on the upload page
        with text_file_as_utf8(path) as readable:
            try:
                result = self.importer()(
                    tenant=cat.tenant,
                    catalog=cat,
                    data=readable if self.pass_path else readable.read_bytes(),
                    actor=None,
                )
            except FileError as exc:
                raise CommandError(f"Nothing was imported: {exc}") from exc
        label = getattr(result, "format_label", "")
        if label:
            self.stdout.write(f"Read as: {label}.")
        unknown = getattr(result, "unknown_skus", {})
        if unknown:
            self.stderr.write(f"{len(unknown)} unknown SKU(s) (not products of {cat.name}):")
            for sku, lines in list(unknown.items())[:50]:
                self.stderr.write(f"  {sku!r}: line(s) {', '.join(map(str, lines))}")
        for error in [e for e in result.errors if e.column != "sku" or not unknown][:200]:
            self.stderr.write(str(error))
        if len(result.errors) > 200:
            self.stderr.write(f"… and {len(result.errors) - 200} more errors")
        if result.written and not no_score:
            events.sales_data_changed(tenant=cat.tenant, catalog=cat, kind=self.kind)
        rows = "row" if result.written == 1 else "rows"
        self.stdout.write(
            self.style.SUCCESS(
                f"{cat.tenant.slug}/{cat.name}: {result.written} {self.kind} {rows} saved, "
                + f"{result.unchanged} unchanged, "
                + f"{result.refused} refused."
            )
        )
