from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def name_existing_actors(apps, schema_editor):
    """Existing events get the username of their actor, whose account is still there."""
    AuditEvent = apps.get_model("tenancy", "AuditEvent")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    username = User.objects.filter(pk=OuterRef("actor_id")).values("username")[:1]
    AuditEvent.objects.filter(actor__isnull=False).update(actor_username=Subquery(username))


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("tenancy", "0003_tenant_currency_iso_4217"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="actor_username",
            field=models.CharField(blank=True, editable=False, max_length=150),
        ),
        migrations.RunPython(name_existing_actors, migrations.RunPython.noop, elidable=True),
    ]
