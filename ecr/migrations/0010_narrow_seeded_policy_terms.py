"""Three prohibited terms seeded by 0002 name everyday products more often than the
prohibited ones, and a prohibited term makes a product Unavailable: "ivory" is a colour
("Linen Shirt Ivory"), "tortoiseshell" a pattern of glasses frames, "escort" also wedding
escort cards. Each is replaced by terms that name what is prohibited, where it is still
exactly as seeded (staff who edited it keep their version). The rules then changed: the
periodic ECR check reviews the products again (ReviewSettings.rules_changed_at)."""

from django.db import migrations
from django.utils import timezone

NARROWER = {
    ("ivory", "endangered species"): ["elephant ivory", "ivory tusk", "mammoth ivory"],
    ("tortoiseshell", "endangered species"): ["hawksbill shell", "real tortoiseshell"],
    ("escort", "adult"): ["escort service"],
}


def narrow_seeded_terms(apps, schema_editor):
    PolicyTerm = apps.get_model("ecr", "PolicyTerm")
    ReviewSettings = apps.get_model("ecr", "ReviewSettings")
    Product = apps.get_model("catalogs", "Product")
    changed = False
    for (term, category), narrower in NARROWER.items():
        seeded = PolicyTerm.objects.filter(
            term=term,
            kind="prohibited",
            category=category,
            severity="error",
            how_to_fix="",
            is_active=True,
        )
        if not seeded.exists():
            continue
        seeded.delete()
        for new in narrower:
            PolicyTerm.objects.get_or_create(
                term=new, kind="prohibited", defaults={"category": category, "severity": "error"}
            )
        changed = True
    if changed and Product.objects.exists():  # (a new install has nothing to review again)
        ReviewSettings.objects.update(rules_changed_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("ecr", "0009_review_text_limit_bounds"), ("catalogs", "0001_initial")]
    operations = [migrations.RunPython(narrow_seeded_terms, migrations.RunPython.noop)]
