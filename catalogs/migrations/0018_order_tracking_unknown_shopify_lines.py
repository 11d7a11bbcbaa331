"""Lines imported from Shopify's orders export before tracking could be unknown were written
with tracking "" (none), which the valid tracking rate counts against the product, and
which a re-import keeps. Their export has no tracking column: make them unknown (NULL).

A catalog is taken as Shopify's when an import of a Shopify export into it was audited
(`orders.imported`, format "Shopify orders export"); only its lines with tracking "" change
(a number typed in Manage Orders stays)."""

from django.db import migrations

SHOPIFY = "Shopify orders export"


def shopify_lines_unknown(apps, schema_editor):
    AuditEvent = apps.get_model("tenancy", "AuditEvent")
    Order = apps.get_model("catalogs", "Order")
    imports = AuditEvent.objects.filter(
        action="orders.imported", target_type="catalogs.Catalog", changes__format=SHOPIFY
    )
    catalogs = {int(t) for t in imports.values_list("target_id", flat=True) if t.isdigit()}
    if catalogs:
        Order.objects.filter(catalog_id__in=catalogs, tracking_number="").update(
            tracking_number=None
        )


def unknown_lines_none(apps, schema_editor):
    """Back to the NOT NULL column of 0016: unknown reads as none again."""
    Order = apps.get_model("catalogs", "Order")
    Order.objects.filter(tracking_number__isnull=True).update(tracking_number="")


class Migration(migrations.Migration):
    dependencies = [
        ("catalogs", "0017_order_tracking_unknown"),
        ("tenancy", "0002_tenant_date_order"),
    ]

    operations = [migrations.RunPython(shopify_lines_unknown, unknown_lines_none)]
