"""More entries seeded by 0002 make everyday products Unavailable through another meaning
of their words (a prohibited term, a restricted term of severity error and a denied claim
are errors): "replica" names official football kits and prop or museum replicas, "xxx" a
clothing size ("XXX-Large") and model numbers, "ecstasy" novels and perfumes, "lsd" the
limited slip differential of car parts, "shark fin" car roof antennas, "cigarette" cigarette
pants and car cigarette lighter chargers, "prescription" prescription glasses and lenses,
"casino" books, films and party supplies, "fda approved" food-grade silicone and plastics,
"risk free" free returns and "100 guaranteed" "Satisfaction 100% guaranteed".

Each is replaced by phrases that name what the list is there for, as 0010 did, where it is
still exactly as seeded (staff who edited or deactivated it keep their version). The
rules then changed: the periodic ECR check reviews the products again."""

from django.db import migrations
from django.utils import timezone

# (term, kind, category, severity) as 0002 seeded it -> the narrower terms, same kind,
# category and severity
NARROWER_TERMS = {
    ("replica", "prohibited", "counterfeit", "error"): [
        "aaa replica",
        "1 1 replica",
        "designer replica",
        "replica designer",
        "replica watch",
        "replica handbag",
        "replica bag",
        "replica purse",
        "replica sneaker",
        "replica sunglasses",
        "replica rolex",
        "rolex replica",
        "replica gucci",
        "gucci replica",
        "replica louis vuitton",
        "louis vuitton replica",
        "replica chanel",
        "chanel replica",
        "replica hermes",
        "replica cartier",
        "replica prada",
    ],
    # "xxx" as a word of its own, not a size ("XXX-Large") or a model number ("XXX-200");
    # not "xxx dvd" or "xxx movie" either, which name the film "xXx".
    ("xxx", "prohibited", "adult", "error"): [
        "xxx video",
        "xxx porn",
        "xxx sex",
        "xxx adult",
        "adult xxx",
        "xxx rated",
        "rated xxx",
        "hardcore xxx",
    ],
    ("ecstasy", "prohibited", "drugs", "error"): [
        "ecstasy pill",
        "ecstasy tablet",
        "ecstasy powder",
        "ecstasy crystal",
    ],
    ("lsd", "prohibited", "drugs", "error"): [
        "lsd tab",
        "lsd tablet",
        "lsd dose",
        "lsd acid",
        "liquid lsd",
    ],
    ("shark fin", "prohibited", "endangered species", "error"): [
        "dried shark fin",
        "shark fin soup",
        "real shark fin",
    ],
    # "cigarettes", "e cigarette" and the vape terms stay as seeded.
    ("cigarette", "prohibited", "tobacco", "error"): [
        "cigarette carton",
        "cigarette pack",
        "menthol cigarette",
        "tobacco cigarette",
    ],
    ("prescription", "restricted", "health", "error"): [
        "prescription drug",
        "prescription medicine",
        "without prescription",
        "without a prescription",
    ],
    ("casino", "restricted", "gambling", "error"): [
        "online casino",
        "casino bonus",
        "casino credit",
        "real money casino",
    ],
}

# (phrase, category) as 0002 seeded it -> the narrower claims, same category
NARROWER_CLAIMS = {
    ("fda approved", "health claims"): [
        "fda approved supplement",
        "fda approved weight loss",
        "fda approved diet",
        "fda approved treatment",
        "fda approved cure",
    ],
    ("risk free", "misleading claims"): [
        "risk free investment",
        "risk free profit",
        "risk free income",
        "risk free trading",
    ],
    ("100 guaranteed", "misleading claims"): [
        "100 guaranteed to work",
        "100 guaranteed weight loss",
        "100 guaranteed profit",
        "100 guaranteed cure",
    ],
}


def narrow_seeded_entries(apps, schema_editor):
    PolicyTerm = apps.get_model("ecr", "PolicyTerm")
    DeniedClaim = apps.get_model("ecr", "DeniedClaim")
    ReviewSettings = apps.get_model("ecr", "ReviewSettings")
    Product = apps.get_model("catalogs", "Product")
    changed = False
    for (term, kind, category, severity), narrower in NARROWER_TERMS.items():
        seeded = PolicyTerm.objects.filter(
            term=term,
            kind=kind,
            category=category,
            severity=severity,
            how_to_fix="",
            is_active=True,
        )
        if not seeded.exists():
            continue
        seeded.delete()
        for new in narrower:
            PolicyTerm.objects.get_or_create(
                term=new, kind=kind, defaults={"category": category, "severity": severity}
            )
        changed = True
    for (phrase, category), narrower in NARROWER_CLAIMS.items():
        seeded = DeniedClaim.objects.filter(
            phrase=phrase, category=category, how_to_fix="", is_active=True
        )
        if not seeded.exists():
            continue
        seeded.delete()
        for new in narrower:
            DeniedClaim.objects.get_or_create(phrase=new, defaults={"category": category})
        changed = True
    if changed and Product.objects.exists():  # (a new install has nothing to review again)
        ReviewSettings.objects.update(rules_changed_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("ecr", "0010_narrow_seeded_policy_terms"), ("catalogs", "0001_initial")]
    operations = [migrations.RunPython(narrow_seeded_entries, migrations.RunPython.noop)]
