"""`manage.py import_orders --catalog ID FILE.csv`

Columns: order_id, sku, quantity, item_price, shipping_fee, placed_at, ship_by, shipped_at,
delivered_at, cancelled_at, cancel_reason, tracking_number (ISO 8601 times, empty for none).
Idempotent on (order_id, sku): importing a file twice changes nothing the second time."""

from catalogs import services
from catalogs.order_io import ORDER_COLUMNS

from ._import_base import ImportCommand


class Command(ImportCommand):
    help = "Import order lines from CSV into a catalog: " + ",".join(ORDER_COLUMNS)
    kind = "order"
    columns = ORDER_COLUMNS

    def importer(self):
        return services.orders_import_csv
