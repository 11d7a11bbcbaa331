"""Request Data Now limits: a wrong feed password does not start the pull cooldown; wrong
passwords have their own, more generous limit per source."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from feeds import services
from feeds.models import FeedRun, RunStatus, Trigger
from feeds.tests.factories import FeedRunFactory, ProductSourceFactory

pytestmark = pytest.mark.django_db


def _failed(source, code: str, *, ago: timedelta = timedelta(seconds=5)) -> FeedRun:
    run = FeedRunFactory(source=source, status=RunStatus.FAILED, error_code=code, error_message="x")
    FeedRun.objects.filter(pk=run.pk).update(queued_at=timezone.now() - ago)
    return run


@pytest.fixture
def source(catalog):
    return ProductSourceFactory(catalog=catalog, username="feed")


def request(source):
    return services.feed_run_request(
        tenant=source.tenant, source=source, actor=None, trigger=Trigger.MANUAL, password="pw"
    )


@pytest.mark.parametrize("code", ["http_401", "http_403"])
def test_a_refused_password_does_not_start_the_cooldown(source, code):
    _failed(source, code)
    run, created = request(source)
    assert created and run.status == RunStatus.QUEUED


@pytest.mark.parametrize("code", ["http_404", "http_500", "network"])
def test_other_failures_still_start_the_cooldown(source, code):
    _failed(source, code)
    with pytest.raises(services.RefreshRateLimited) as exc:
        request(source)
    assert not isinstance(exc.value, services.WrongPasswordLimited)


def test_five_wrong_passwords_in_15_minutes_lock_the_source(source):
    for i in range(services.WRONG_PASSWORD_LIMIT):
        _failed(source, "http_401", ago=timedelta(minutes=14 - i))
    with pytest.raises(services.WrongPasswordLimited) as exc:
        request(source)
    # the lock lifts when the oldest of the five leaves the 15-minute window
    assert 50 <= exc.value.seconds <= 61
    assert "wrong passwords" in str(exc.value)


def test_wrong_passwords_older_than_the_window_do_not_count(source):
    for _ in range(services.WRONG_PASSWORD_LIMIT):
        _failed(source, "http_401", ago=timedelta(minutes=16))
    _run, created = request(source)
    assert created


def test_wrong_passwords_of_another_source_do_not_count(source, catalog):
    other = ProductSourceFactory(catalog=catalog)
    for _ in range(services.WRONG_PASSWORD_LIMIT):
        _failed(other, "http_401")
    _run, created = request(source)
    assert created
