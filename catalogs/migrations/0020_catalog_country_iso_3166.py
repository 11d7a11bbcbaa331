"""A catalog's country is an ISO 3166-1 alpha-2 code in capitals. Catalogs saved before it
was checked through Django admin or the settings may hold a lower-case code ("de"):
capitalise them. Anything else that is not a code ("ZZ") is left for an admin to fix."""

from django.db import migrations, models

import catalogs.countries

# Python, not SQL upper(): the database's locale must not decide what a capital is.
ASCII_CAPITALS = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def countries_in_capitals(apps, schema_editor):
    Catalog = apps.get_model("catalogs", "Catalog")
    for pk, country in Catalog.objects.filter(country__regex=r"[a-z]").values_list(
        "pk", "country"
    ):
        Catalog.objects.filter(pk=pk).update(country=country.translate(ASCII_CAPITALS))


class Migration(migrations.Migration):
    dependencies = [
        ('catalogs', '0019_catalog_currency_iso_4217'),
    ]

    operations = [
        migrations.AlterField(
            model_name='catalog',
            name='country',
            field=models.CharField(default='US', help_text='ISO 3166-1 alpha-2', max_length=2, validators=[catalogs.countries.validate_country]),
        ),
        # The old values cannot be told apart afterwards: going back keeps the capitals.
        migrations.RunPython(countries_in_capitals, migrations.RunPython.noop),
    ]
