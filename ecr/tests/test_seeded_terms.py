"""The policy terms every deployment starts with (migrations 0002 and 0010) leave everyday
products Available and still catch what they are there for: a prohibited term makes a
product Unavailable, so a term that names a colour or a pattern would hide whole catalogs."""

import importlib

import pytest
from django.apps import apps

from ecr import review, rules
from ecr.models import PolicyTerm, ReviewSettings
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
