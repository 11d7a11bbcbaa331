"""`manage.py import_orders --catalog ID FILE`

FILE is an order export as downloaded: a TikTok Shop order export (CSV or XLSX), a Shopify
orders export, a file whose header the tenant has mapped before, or the app's own CSV
(order_id, sku, quantity, item_price, shipping_fee, placed_at, ship_by, shipped_at,
delivered_at, cancelled_at, cancel_reason, tracking_number). A CSV may be separated by
commas, semicolons (Excel's CSV in most European locales, with a decimal comma) or tabs (a
TSV, Excel's Unicode Text in UTF-16). Idempotent on (order id, sku)
within the catalog: importing a file twice changes nothing the second time."""

from catalogs import order_files
from catalogs.order_io import DateOrderNeeded

from ._import_base import ImportCommand


class Command(ImportCommand):
    help = (
        "Import order lines into a catalog from a TikTok Shop or Shopify export (CSV/XLSX), "
        "a mapped file or the app's CSV (comma-, semicolon- or tab-separated)"
    )
    kind = "order"
    pass_path = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--date-order",
            choices=["dmy", "mdy"],
            default="",
            help="how slash dates read when no date in the file has a day above 12 "
            "(default: the tenant's setting)",
        )

    def importer(self):
        date_order = self.options.get("date_order", "")

        def run(**kwargs):
            try:
                return order_files.orders_import_file(date_order=date_order, **kwargs)
            except DateOrderNeeded as exc:  # the upload page asks; here it is a flag
                raise DateOrderNeeded(f"{exc} Here: --date-order dmy or --date-order mdy.") from exc

        return run
