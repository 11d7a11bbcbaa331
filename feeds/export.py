"""Row-error CSV columns of a feed run (the writing is catalog_health.csv_export's)."""

ROW_ERROR_HEADER = ["line", "sku", "field", "severity", "message"]
