"""A catalog's currency is an ISO 4217 code in capitals. Catalogs saved before it was
checked may hold a lower-case code ("usd"), which channel feeds published as typed:
capitalise them. Anything else that is not a code ("US$") is left for an admin to fix (the
catalog's admin page says what is wrong); guessing a currency would change prices' meaning."""

from django.db import migrations, models

import catalog_health.tenancy.currencies

# Python, not SQL upper(): the database's locale must not decide what a capital is.
ASCII_CAPITALS = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def currencies_in_capitals(apps, schema_editor):
    Catalog = apps.get_model("catalogs", "Catalog")
    for pk, currency in Catalog.objects.filter(currency__regex=r"[a-z]").values_list(
        "pk", "currency"
    ):
        Catalog.objects.filter(pk=pk).update(currency=currency.translate(ASCII_CAPITALS))


class Migration(migrations.Migration):
    dependencies = [
        ("catalogs", "0018_order_tracking_unknown_shopify_lines"),
    ]

    operations = [
        migrations.AlterField(
            model_name="catalog",
            name="currency",
            field=models.CharField(
                default="USD",
                help_text="ISO 4217 code, e.g. USD, EUR, GBP",
                max_length=3,
                validators=[catalog_health.tenancy.currencies.validate_currency],
            ),
        ),
        # The old values cannot be told apart afterwards: going back keeps the capitals.
        migrations.RunPython(currencies_in_capitals, migrations.RunPython.noop),
    ]
