import contextlib
import io
import threading
import time
from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.urls import reverse

from catalog_health.tenancy import services
from catalog_health.tenancy.models import AuditEvent, Membership, Tenant
from catalog_health.tenancy.roles import Role
from catalog_health.tenancy.services import member_remove_by_staff, member_set_role

pytestmark = pytest.mark.django_db


def test_create_tenant_creates_user_and_owner_membership():
    out = io.StringIO()
    call_command(
        "create_tenant",
        "shop-1",
        "--name",
        "Shop One",
        "--owner",
        "olga",
        "--password",
        "a-long-Passw0rd!",
        stdout=out,
    )
    tenant = Tenant.objects.get(slug="shop-1")
    membership = Membership.objects.get(tenant=tenant)
    assert membership.user.username == "olga" and membership.role == Role.OWNER
    assert membership.user.check_password("a-long-Passw0rd!")
    assert "Created tenant shop-1" in out.getvalue()


def test_create_tenant_uses_an_existing_user(user_factory):
    user = user_factory("existing")
    call_command(
        "create_tenant", "shop-2", "--name", "Shop Two", "--owner", "existing", stdout=io.StringIO()
    )
    assert Membership.objects.get(tenant__slug="shop-2").user == user


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["dup", "--name", "X", "--owner", "u1", "--password", "a-long-Passw0rd!"],
            "already exists",
        ),
        (["weak", "--name", "X", "--owner", "u2", "--password", "123"], "Password rejected"),
        (["nopw", "--name", "X", "--owner", "ghost"], "pass --password"),
    ],
)
def test_create_tenant_errors_are_clear(args, message, user_factory):
    Tenant.objects.create(slug="dup", name="Dup")
    with pytest.raises(CommandError, match=message):
        call_command("create_tenant", *args, stdout=io.StringIO())


def test_home_lists_tenants_and_switching_remembers_the_choice(client, member, tenant_a, tenant_b):
    user = member(tenant_a, Role.SELLER, username="both")
    Membership.objects.create(tenant=tenant_b, user=user, role=Role.VIEWER)
    client.force_login(user)
    listing = client.get("/")
    assert listing.status_code == 200
    assert b"Tenant A" in listing.content and b"Tenant B" in listing.content
    client.get(reverse("catalogs:catalog_list", kwargs={"tenant_slug": tenant_b.slug}))
    # the tenant home is the overview (settings.TENANT_HOME_URL_NAME) of the tenant last used
    assert client.get("/")["Location"] == f"/t/{tenant_b.slug}/overview/"


def test_switcher_lists_only_own_tenants(client, member, tenant_a, tenant_b):
    client.force_login(member(tenant_a))
    body = client.get(
        reverse("catalogs:catalog_list", kwargs={"tenant_slug": tenant_a.slug})
    ).content
    assert b"Tenant A" in body and b"Tenant B" not in body


def test_login_and_failed_login_are_audited(client, user_factory):
    user_factory("alice")
    client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "auth.login_failed" in actions and "auth.login" in actions


def test_login_is_throttled_after_repeated_failures(client, user_factory):
    user_factory("bob")
    for _ in range(5):
        client.post(reverse("login"), {"username": "bob", "password": "nope"})
    response = client.post(reverse("login"), {"username": "bob", "password": "pw-bob"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_api_tokens_page_shows_key_once_and_revokes(client, member, tenant_a):
    client.force_login(member(tenant_a, Role.VIEWER))
    url = reverse("tenancy:api_tokens", kwargs={"tenant_slug": tenant_a.slug})
    created = client.post(url, {"name": "ERP"})
    key = created.context["new_key"]
    assert key and key.encode() in created.content
    listing = client.get(url)
    assert key.encode() not in listing.content
    token = listing.context["tokens"][0]
    client.post(url, {"revoke": token.pk})
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_healthz_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"]["ok"] and response.json()["broker"]["ok"]


def test_healthz_503_when_broker_is_unreachable(client, dead_broker):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] and not body["broker"]["ok"]


def test_audit_trail_cannot_be_edited_or_deleted_in_admin(client, user_factory):
    staff = user_factory("root", is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.post(reverse("login"), {"username": "root", "password": "wrong"})
    event = AuditEvent.objects.first()
    assert client.get(reverse("admin:tenancy_auditevent_changelist")).status_code == 200
    delete_url = reverse("admin:tenancy_auditevent_delete", args=[event.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def _create_tenant_with_currency(slug: str, currency: str) -> None:
    call_command(
        "create_tenant",
        slug,
        "--name",
        "Shop",
        "--owner",
        "olga",
        "--password",
        "a-long-Passw0rd!",
        "--currency",
        currency,
        stdout=io.StringIO(),
    )


@pytest.mark.parametrize(("typed", "stored"), [("eur", "EUR"), ("GBP", "GBP")])
def test_create_tenant_stores_its_currency_in_capitals(typed, stored):
    _create_tenant_with_currency("shop-3", typed)
    assert Tenant.objects.get(slug="shop-3").currency == stored


@pytest.mark.parametrize("typed", ["US$", "EURO", "XYZ", ""])
def test_create_tenant_refuses_what_is_not_a_currency(typed):
    with pytest.raises(CommandError, match="ISO 4217"):
        _create_tenant_with_currency("shop-4", typed)
    assert not Tenant.objects.filter(slug="shop-4").exists()


def _at_once(*steps: Callable[[Callable[[], object]], None]) -> list[ValidationError]:
    """Run ``steps`` as concurrent requests: each in a thread with its own database
    connection, calling the function it is given where the threads line up. Returns the
    ValidationErrors they raised."""
    errors: list[ValidationError] = []
    barrier = threading.Barrier(len(steps))

    def run(step) -> None:
        try:
            step(barrier.wait)
        except ValidationError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(member, tenant_a, monkeypatch):
    """Each sees two owners; without a lock both demotions pass and the tenant has none."""
    first, second = member(tenant_a, Role.OWNER, "o1"), member(tenant_a, Role.OWNER, "o2")
    save = Membership.save

    def slow_save(self, *args, **kwargs):
        time.sleep(0.5)  # both have counted the owners by now, unless the count waits
        save(self, *args, **kwargs)

    monkeypatch.setattr(Membership, "save", slow_save)

    def demote(actor, target):
        def step(line_up) -> None:
            # each request reads its own rows, as two browsers would
            mine = {m.user_id: m for m in Membership.objects.filter(tenant=tenant_a)}
            line_up()
            member_set_role(
                tenant=tenant_a,
                actor_membership=mine[actor.pk],
                membership=mine[target.pk],
                role=Role.ADMIN,
            )

        return step

    errors = _at_once(demote(first, second), demote(second, first))
    assert Membership.objects.filter(tenant=tenant_a, role=Role.OWNER).count() == 1
    assert len(errors) == 1 and "at least one owner" in str(errors[0])


@pytest.mark.django_db(transaction=True)
def test_two_staff_removing_each_of_two_owners_at_once_leave_one_owner(
    member, tenant_a, user_factory, monkeypatch
):
    """Each sees two owners; without a lock both removals pass and the tenant has none."""
    member(tenant_a, Role.OWNER, "o1")
    member(tenant_a, Role.OWNER, "o2")
    record = services.audit_record

    def slow_record(**kwargs):
        time.sleep(0.5)  # both have counted the owners by now, unless the count waits
        return record(**kwargs)

    monkeypatch.setattr(services, "audit_record", slow_record)

    def remove(staff_name: str, owner_name: str):
        staff = user_factory(staff_name, is_staff=True)

        def step(line_up) -> None:
            owner = Membership.objects.get(tenant=tenant_a, user__username=owner_name)
            line_up()
            member_remove_by_staff(actor=staff, memberships=[owner])

        return step

    errors = _at_once(remove("staff1", "o1"), remove("staff2", "o2"))
    assert Membership.objects.filter(tenant=tenant_a, role=Role.OWNER).count() == 1
    assert len(errors) == 1 and "at least one owner" in str(errors[0])
    assert AuditEvent.objects.filter(action="member.removed").count() == 1


def test_only_staff_remove_members_outside_the_members_page(member, tenant_a):
    owner = member(tenant_a, Role.OWNER)
    viewer = Membership.objects.get(user=member(tenant_a, Role.VIEWER))
    with pytest.raises(PermissionDenied):
        member_remove_by_staff(actor=owner, memberships=[viewer])
    assert Membership.objects.filter(pk=viewer.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_membership_added_while_its_user_is_deleted_is_not_cascaded_away_unaudited(
    member, tenant_a, tenant_b, user_factory, monkeypatch
):
    """The deletion removes the memberships it finds, then the account: one added in between
    would go with the account, in no tenant's trail, unless the addition waits and fails."""
    member(tenant_a, Role.OWNER)
    leaving = member(tenant_a, Role.VIEWER, "leaving")
    member(tenant_b, Role.OWNER)
    staff = user_factory("staff", is_staff=True)
    record = services.audit_record

    def slow_record(**kwargs):
        if threading.current_thread().name == "delete":
            time.sleep(0.5)  # the addition is made by now, unless it waits
        return record(**kwargs)

    monkeypatch.setattr(services, "audit_record", slow_record)
    added: list[int] = []

    def delete(line_up) -> None:
        threading.current_thread().name = "delete"
        line_up()
        services.user_delete_by_staff(actor=staff, users=[leaving])

    def add(line_up) -> None:
        line_up()
        time.sleep(0.2)  # the deletion has found the memberships by now
        # it waits for the deletion, then fails: the account it names is gone
        with contextlib.suppress(DatabaseError):
            added.append(
                services.member_add_by_staff(
                    tenant=tenant_b, actor=staff, user=leaving, role=Role.SELLER
                ).pk
            )

    _at_once(delete, add)
    removals = AuditEvent.objects.filter(action="member.removed")
    removed = {int(pk) for pk in removals.values_list("target_id", flat=True)}
    stored = set(Membership.objects.filter(user_id=leaving.pk).values_list("pk", flat=True))
    assert set(added) <= stored | removed
