"""Policy terms and denied claims as staff type them in admin: an entry with the same words
as an active one (case, spacing, punctuation or compatibility forms aside) would never match,
since review takes the first entry of the same words, so admin refuses it."""

from __future__ import annotations

import pytest

from ecr.models import DeniedClaim, PolicyTerm

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, user_factory):
    client.force_login(user_factory("staffer", is_staff=True, is_superuser=True))
    return client


def _term_form(term: str, kind: str = "prohibited", severity: str = "warning") -> dict:
    return {
        "term": term,
        "kind": kind,
        "category": "drugs",
        "severity": severity,
        "how_to_fix": "",
        "is_active": "on",
    }


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("Cocaine", "prohibited"),
        ("  COCAINE ", "prohibited"),
        ("ｃｏｃａｉｎｅ", "prohibited"),
        ("cocaine.", "prohibited"),
        ("cocaine", "restricted"),  # words are looked up once, whatever the list
    ],
)
def test_a_term_with_the_words_of_an_active_one_is_refused(staff_client, typed, kind):
    assert PolicyTerm.objects.filter(term="cocaine", is_active=True).exists()  # seeded
    before = PolicyTerm.objects.count()
    response = staff_client.post("/admin/ecr/policyterm/add/", _term_form(typed, kind))
    assert response.status_code == 200
    assert "“cocaine” is already on the list" in response.content.decode()
    assert PolicyTerm.objects.count() == before


def test_other_words_or_the_words_of_an_entry_switched_off_are_taken(staff_client):
    response = staff_client.post("/admin/ecr/policyterm/add/", _term_form("cocaine pipe"))
    assert response.status_code == 302
    PolicyTerm.objects.filter(term="cocaine").update(is_active=False)
    response = staff_client.post("/admin/ecr/policyterm/add/", _term_form("cocaine", "restricted"))
    assert response.status_code == 302
    assert PolicyTerm.objects.filter(term="cocaine", kind="restricted", is_active=True).exists()


def test_a_claim_with_the_words_of_an_active_one_is_refused(staff_client):
    DeniedClaim.objects.create(phrase="cures baldness", category="health claims")
    before = DeniedClaim.objects.count()
    response = staff_client.post(
        "/admin/ecr/deniedclaim/add/",
        {"phrase": "Cures  BALDNESS!", "category": "health", "how_to_fix": "", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "“cures baldness” is already on the list" in response.content.decode()
    assert DeniedClaim.objects.count() == before


def test_switching_on_a_duplicate_in_the_list_is_refused_not_a_crash(staff_client):
    """Entries saved before (or outside admin) may repeat each other while one is off:
    switching it on in the list, where the phrase is not a field, is an error message."""
    DeniedClaim.objects.create(phrase="cures baldness", category="health claims")
    off = DeniedClaim.objects.create(phrase="Cures Baldness", category="x", is_active=False)
    response = staff_client.post(
        "/admin/ecr/deniedclaim/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(off.pk),
            "form-0-is_active": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 200
    assert "“cures baldness” is already on the list" in response.content.decode()
    off.refresh_from_db()
    assert not off.is_active


def test_the_seeded_lists_repeat_no_words():
    """Every seeded entry can be saved again in admin as it is."""
    for entry in [*PolicyTerm.objects.all(), *DeniedClaim.objects.all()]:
        entry.full_clean()


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("Cures Baldness", "prohibited"),
        ("cures-baldness!", "restricted"),
        ("ｃｕｒｅｓ ｂａｌｄｎｅｓｓ", "prohibited"),
    ],
)
def test_a_term_with_the_words_of_an_active_claim_is_refused(staff_client, typed, kind):
    DeniedClaim.objects.create(phrase="cures baldness", category="health claims")
    before = PolicyTerm.objects.count()
    response = staff_client.post("/admin/ecr/policyterm/add/", _term_form(typed, kind))
    assert response.status_code == 200
    html = response.content.decode()
    assert "“cures baldness” is already on the list" in html and "denied claim" in html
    assert PolicyTerm.objects.count() == before


@pytest.mark.parametrize("typed", ["Cocaine", "COCAINE.", "ｃｏｃａｉｎｅ"])
def test_a_claim_with_the_words_of_an_active_term_is_refused(staff_client, typed):
    assert PolicyTerm.objects.filter(term="cocaine", is_active=True).exists()  # seeded
    before = DeniedClaim.objects.count()
    response = staff_client.post(
        "/admin/ecr/deniedclaim/add/",
        {"phrase": typed, "category": "drugs", "how_to_fix": "", "is_active": "on"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "“cocaine” is already on the list" in html and "prohibited term" in html
    assert DeniedClaim.objects.count() == before


def test_a_term_and_a_claim_switched_off_do_not_clash(staff_client):
    DeniedClaim.objects.create(phrase="cures baldness", category="health", is_active=False)
    response = staff_client.post("/admin/ecr/policyterm/add/", _term_form("cures baldness"))
    assert response.status_code == 302
