"""`manage.py import_impressions --catalog ID FILE.csv`

Columns: sku, date, impressions, clicks. Idempotent on (sku, date)."""

from catalogs import services
from catalogs.order_io import IMPRESSION_COLUMNS

from ._import_base import ImportCommand


class Command(ImportCommand):
    help = "Import daily impressions from CSV into a catalog: " + ",".join(IMPRESSION_COLUMNS)
    kind = "impression"
    columns = IMPRESSION_COLUMNS

    def importer(self):
        return services.impressions_import_csv
