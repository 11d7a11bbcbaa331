"""The policy terms every deployment starts with (migrations 0002 and 0010) leave everyday
products Available and still catch what they are there for: a prohibited term makes a
product Unavailable, so a term that names a colour or a pattern would hide whole catalogs."""

import importlib

import pytest
from django.apps import apps

from ecr import review, rules
from ecr.models import DeniedClaim, PolicyTerm, ReviewSettings
from ecr.tests.factories import CatalogFactory, PendingProductFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("title", "prohibited"),
    [
        ("Linen Shirt Ivory", False),
        ("Ivory white pillar candles, set of 3", False),
        ("Tortoiseshell acetate sunglasses", False),
        ("Wedding escort cards, 50 pack", False),
        ("Carved elephant ivory figurine", True),
        ("Antique mammoth ivory pendant", True),
        ("Comb of real tortoiseshell", True),
        ("Hawksbill shell bracelet", True),
        ("Escort service, discreet", True),
        ("Designer replica handbag", True),  # seeded in 0002, kept
    ],
)
def test_the_seeded_terms_judge_everyday_titles(tenant_a, title, prohibited):
    catalog = CatalogFactory(tenant=tenant_a)
    context = review.review_context(tenant=tenant_a, catalog=catalog)
    product = {"sku": "P1", "title": title, "description": "A product."}
    issues = rules.review_products([product], context).issues_per_row()[0]
    assert any(i.code == "policy_prohibited_term" for i in issues) == prohibited, issues


def test_a_term_staff_edited_is_left_as_they_made_it():
    narrow = importlib.import_module("ecr.migrations.0010_narrow_seeded_policy_terms")
    PolicyTerm.objects.filter(term__in=["elephant ivory", "ivory tusk", "mammoth ivory"]).delete()
    PolicyTerm.objects.create(
        term="ivory", kind="prohibited", category="endangered species", how_to_fix="No ivory."
    )
    settings = ReviewSettings.current()
    before = settings.rules_changed_at
    narrow.narrow_seeded_terms(apps, None)
    assert PolicyTerm.objects.filter(term="ivory").exists()
    assert not PolicyTerm.objects.filter(term="elephant ivory").exists()
    settings.refresh_from_db()
    assert settings.rules_changed_at == before  # nothing changed: no re-review


def test_narrowing_a_seeded_term_asks_for_a_re_review(tenant_a):
    narrow = importlib.import_module("ecr.migrations.0010_narrow_seeded_policy_terms")
    PendingProductFactory(catalog=CatalogFactory(tenant=tenant_a), tenant=tenant_a)
    PolicyTerm.objects.create(term="escort", kind="prohibited", category="adult")
    narrow.narrow_seeded_terms(apps, None)
    assert not PolicyTerm.objects.filter(term="escort").exists()
    assert PolicyTerm.objects.filter(term="escort service", kind="prohibited").exists()
    assert ReviewSettings.current().rules_changed_at is not None


def _policy_errors(tenant, text: str) -> list[str]:
    """The policy rules that make a product with ``text`` (title and description)
    Unavailable under the seeded lists: prohibited terms, restricted terms of severity
    error, denied claims."""
    catalog = CatalogFactory(tenant=tenant)
    context = review.review_context(tenant=tenant, catalog=catalog)
    products = [
        {"sku": "T", "title": text, "description": "A product."},
        {"sku": "D", "title": "A product", "description": text},
    ]
    found = []
    for issues in rules.review_products(products, context).issues_per_row():
        found += [i.rule for i in issues if i.code.startswith("policy_") and i.severity == "error"]
    return sorted(set(found))


# Everyday catalog text of clothing, hardware, car parts, books, toys, cosmetics and food
# shops that a seeded entry named by a word of another meaning.
ORDINARY = [
    "Official replica home jersey 2026",
    "Replica of the 1950s lamp design",
    "Star Wars lightsaber prop replica, 1:1 scale",
    "T-shirt size XXX-Large",
    "Hoodie, black, XXXL",
    "Model XXX-200 cordless drill",
    "Rain jacket, size XXX large",
    "The Agony and the Ecstasy, paperback",
    "Ecstasy eau de parfum, 50 ml",
    "Cusco LSD limited slip differential, 1.5-way",
    "Universal shark fin roof antenna for cars",
    "Kids swim vest with shark fin, ages 3-6",
    "Cigarette pants, slim fit, navy",
    "12V car cigarette lighter USB charger",
    "Prescription sunglasses, polarised",
    "Acetate frames ready for prescription lenses",
    "Prescription swim goggles for kids",
    "Casino Royale, Ian Fleming, paperback",
    "Casino night party decorations, 40 pieces",
    "Spatula set made of FDA approved food grade silicone",
    "Baby bottle, BPA free, FDA-approved materials",
    "Try it risk-free: 30-day free returns",
    "Satisfaction 100% guaranteed or your money back",
]

# What each narrowed entry is there for, and some entries left as seeded.
CAUGHT = [
    "Replica Rolex Submariner, automatic",
    "AAA replica handbag",
    "1:1 replica sneakers",
    "Designer replica tote",
    "Replica watches, top quality",
    "Gucci replica belt",
    "XXX videos, uncensored",
    "XXX-rated DVD collection",
    "Adult XXX magazine",
    "Ecstasy pills, 200 mg",
    "MDMA crystals",
    "LSD tabs, 100 ug",
    "Liquid LSD, 10 ml",
    "Dried shark fin, premium grade",
    "Shark fin soup, 6 cans",
    "Marlboro Red cigarettes",
    "Cigarette carton, 10 packs",
    "Menthol cigarette, single",
    "Antibiotics without a prescription",
    "Prescription drugs, discreet shipping",
    "Online casino credits",
    "Casino bonus code, 100 free spins",
    "FDA approved weight loss supplement",
    "Risk-free investment, 20% returns",
    "Lose 10 kg, 100% guaranteed to work",
    "Guaranteed results in one week",
    "Cocaine, 1 g",
    "Handguns for sale",
    "Vape juice, mango",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_catalog_text_stays_available(tenant_a, text):
    assert _policy_errors(tenant_a, text) == []


@pytest.mark.parametrize("text", CAUGHT)
def test_what_the_lists_are_for_is_still_unavailable(tenant_a, text):
    assert _policy_errors(tenant_a, text) != []


def _migration_0011():
    return importlib.import_module("ecr.migrations.0011_narrow_more_seeded_policy_entries")


def test_0011_leaves_entries_staff_edited_as_they_made_them():
    PolicyTerm.objects.filter(term__endswith="replica").delete()
    PolicyTerm.objects.create(
        term="replica", kind="prohibited", category="counterfeit", how_to_fix="No replicas."
    )
    PolicyTerm.objects.create(
        term="casino", kind="restricted", category="gambling", severity="warning"
    )
    DeniedClaim.objects.create(phrase="risk free", category="misleading claims", is_active=False)
    before = ReviewSettings.current().rules_changed_at
    _migration_0011().narrow_seeded_entries(apps, None)
    assert PolicyTerm.objects.get(term="replica").how_to_fix == "No replicas."
    assert not PolicyTerm.objects.filter(term="aaa replica").exists()
    assert PolicyTerm.objects.get(term="casino").severity == "warning"
    assert DeniedClaim.objects.filter(phrase="risk free", is_active=False).exists()
    assert ReviewSettings.current().rules_changed_at == before  # nothing changed


def test_0011_narrows_seeded_terms_and_claims_and_asks_for_a_re_review(tenant_a):
    PendingProductFactory(catalog=CatalogFactory(tenant=tenant_a), tenant=tenant_a)
    PolicyTerm.objects.create(term="xxx", kind="prohibited", category="adult")
    PolicyTerm.objects.create(term="prescription", kind="restricted", category="health")
    PolicyTerm.objects.filter(term="online casino").update(is_active=False)  # staff's choice
    PolicyTerm.objects.create(term="casino", kind="restricted", category="gambling")
    DeniedClaim.objects.create(phrase="fda approved", category="health claims")
    _migration_0011().narrow_seeded_entries(apps, None)
    assert not PolicyTerm.objects.filter(term__in=["xxx", "prescription", "casino"]).exists()
    assert PolicyTerm.objects.filter(term="xxx rated", kind="prohibited").exists()
    assert PolicyTerm.objects.filter(
        term="without a prescription", kind="restricted", category="health", severity="error"
    ).exists()
    assert not PolicyTerm.objects.get(term="online casino").is_active
    assert not DeniedClaim.objects.filter(phrase="fda approved").exists()
    assert DeniedClaim.objects.get(phrase="fda approved supplement").category == "health claims"
    assert ReviewSettings.current().rules_changed_at is not None
