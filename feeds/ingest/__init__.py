"""The ingest engine of the feeds app: the steps of one run, below its lifecycle.

feeds.services starts and ends runs (request, enqueue, confirm, cancel, execute); this
package does the work of one run. The pipeline:

    fetch (SSRF-safe, conditional)  ->  identical? end as "unchanged"
    decompress (bomb-safe) -> parse + validate in chunks -> COPY into a per-run staging table
    thresholds (rejected share; removal share in replace mode -> "needs confirmation")
    ONE transaction: diff sample, one set-based upsert keyed by (tenant, catalog, sku) that
        skips rows whose content hash is unchanged, removals (replace mode)
    after commit: review hook (ECR), source bookkeeping, staging table dropped

Nothing touches the catalog before the apply transaction, so a failed fetch, a parse
error, a threshold or a killed worker leaves the catalog exactly as it was.
"""
