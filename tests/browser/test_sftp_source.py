"""An owner looks at an sftp source's pinned host key and forgets it (the server was moved)."""

import pytest

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory
from feeds.models import ProductSource
from feeds.tests.factories import ProductSourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FINGERPRINT = "SHA256:q3pJ7m0CkV2oVddgZ8bYqXzW1xg3C9JfI0c8QnT4sRk"


def test_owner_sees_and_forgets_the_pinned_host_key(
    page, live_server, login, screenshot, member, tenant_a
):
    owner = member(tenant_a, Role.OWNER, username="olga")
    owner.set_password("s3cret-pass")
    owner.save()
    catalog = CatalogFactory(tenant=tenant_a, name="Outdoor shop")
    source = ProductSourceFactory(
        catalog=catalog,
        name="Supplier SFTP",
        url="sftp://feeds@files.supplier.example/exports/products.csv",
        host_key_type="ssh-ed25519",
        host_key_fingerprint=FINGERPRINT,
    )

    login("olga", "s3cret-pass")
    page.goto(f"{live_server.url}/t/{tenant_a.slug}/sources/{source.pk}/")
    key = page.get_by_test_id("host-key-fingerprint")
    assert key.inner_text() == f"ssh-ed25519 {FINGERPRINT}"
    assert page.get_by_text("Trusted since the first successful pull").is_visible()
    screenshot("sftp-1-source-with-pinned-host-key")

    page.get_by_label("Forget the stored host key").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.get_by_text("Not stored yet: the next successful pull stores").is_visible()
    assert not page.get_by_test_id("host-key-fingerprint").count()
    screenshot("sftp-2-host-key-forgotten")
    source = ProductSource.objects.get(pk=source.pk)
    assert (source.host_key_type, source.host_key_fingerprint) == ("", "")
    assert source.url.startswith("sftp://feeds@")  # nothing else changed
