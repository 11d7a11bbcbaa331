"""Default policy lists and review settings; staff edit them in Django admin afterwards."""

from django.db import migrations

PROHIBITED = {
    "drugs": ["cocaine", "heroin", "methamphetamine", "crystal meth", "ecstasy", "lsd", "mdma",
              "magic mushrooms", "psilocybin"],
    "weapons": ["firearm", "handgun", "assault rifle", "ammunition", "gun silencer",
                "brass knuckles", "switchblade", "pepper spray", "taser"],
    "counterfeit": ["replica", "counterfeit", "knockoff", "knock off", "1 1 copy"],
    "tobacco": ["cigarette", "cigarettes", "e cigarette", "vape", "vape juice", "e liquid"],
    "endangered species": ["ivory", "rhino horn", "shark fin", "tortoiseshell"],
    "dangerous products": ["spy camera", "radar jammer", "lock picking"],
    "adult": ["escort", "xxx"],
}
RESTRICTED = {
    # (term, severity)
    "alcohol": [("alcohol", "warning"), ("vodka", "warning"), ("whisky", "warning"),
                ("whiskey", "warning"), ("beer", "warning"), ("wine", "warning")],
    "health": [("weight loss", "warning"), ("diet pill", "error"), ("fat burner", "warning"),
               ("prescription", "error"), ("cbd", "error"), ("kratom", "error"),
               ("testosterone", "warning"), ("steroids", "error")],
    "gambling": [("casino", "error"), ("betting", "warning"), ("lottery", "warning")],
    "financial": [("crypto", "warning"), ("bitcoin", "warning"), ("payday loan", "error")],
    "counterfeit": [("fake", "warning"), ("inspired by", "warning")],
}
DENIED_CLAIMS = {
    "health claims": ["cures cancer", "cure cancer", "miracle cure", "no side effects",
                      "lose weight fast", "permanent weight loss", "fda approved",
                      "doctor recommended", "boosts immunity", "detox your body"],
    "misleading claims": ["guaranteed results", "100 guaranteed", "risk free", "get rich quick",
                          "instant results", "best price guaranteed", "free money"],
}


def seed(apps, schema_editor):
    PolicyTerm = apps.get_model("ecr", "PolicyTerm")
    DeniedClaim = apps.get_model("ecr", "DeniedClaim")
    ReviewSettings = apps.get_model("ecr", "ReviewSettings")
    for category, terms in PROHIBITED.items():
        for term in terms:
            PolicyTerm.objects.get_or_create(
                term=term, kind="prohibited", defaults={"category": category, "severity": "error"}
            )
    for category, terms in RESTRICTED.items():
        for term, severity in terms:
            PolicyTerm.objects.get_or_create(
                term=term, kind="restricted", defaults={"category": category, "severity": severity}
            )
    for category, phrases in DENIED_CLAIMS.items():
        for phrase in phrases:
            DeniedClaim.objects.get_or_create(phrase=phrase, defaults={"category": category})
    if not ReviewSettings.objects.exists():
        ReviewSettings.objects.create()


class Migration(migrations.Migration):
    dependencies = [("ecr", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
