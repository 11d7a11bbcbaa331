from django.db import migrations


def create_defaults(apps, schema_editor):
    """Global default policies, editable in admin afterwards (values: flagged.scoring)."""
    from flagged.scoring import DEFAULT_POLICIES

    MetricPolicy = apps.get_model("flagged", "MetricPolicy")
    for metric, p in DEFAULT_POLICIES.items():
        MetricPolicy.objects.get_or_create(
            metric=metric.value,
            defaults={
                "enabled": p.enabled,
                "window_days": p.window_days,
                "min_orders": p.min_orders,
                "at_risk_threshold": p.at_risk_threshold,
                "target": p.target,
                "fee_ratio_percent": p.fee_ratio_percent,
                "fee_amount": p.fee_amount,
                "how_to_fix": p.how_to_fix,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("flagged", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
