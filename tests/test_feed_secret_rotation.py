"""Feed passwords under several keys: the first encrypts, every key decrypts, and
`rotate_feed_secrets` moves stored passwords to the first key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from catalog_health.tenancy.models import AuditEvent
from feeds import crypto
from feeds.models import FeedRun
from feeds.tests.factories import FeedRunFactory, ProductSourceFactory

OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))


def test_first_key_encrypts_and_every_key_decrypts(settings):
    settings.FIELD_ENCRYPTION_KEY = [OLD]
    token = crypto.encrypt("s3cret")
    settings.FIELD_ENCRYPTION_KEY = [NEW, OLD]
    assert crypto.decrypt(token) == "s3cret"
    fresh = crypto.encrypt("fresh")
    assert Fernet(NEW.encode()).decrypt(fresh.encode()) == b"fresh"
    settings.FIELD_ENCRYPTION_KEY = f"{NEW}, {OLD}"  # a comma-separated string works too
    assert crypto.decrypt(token) == "s3cret"
    settings.FIELD_ENCRYPTION_KEY = [NEW]
    with pytest.raises(ValueError, match="cannot be decrypted"):
        crypto.decrypt(token)


@pytest.mark.django_db
def test_rotate_feed_secrets_reencrypts_with_the_first_key(settings, capsys):
    settings.FIELD_ENCRYPTION_KEY = [OLD]
    source = ProductSourceFactory(password_encrypted=crypto.encrypt("pw-source"))
    empty = ProductSourceFactory(password_encrypted="")
    run = FeedRunFactory(one_time_password_encrypted=crypto.encrypt("pw-once"))
    settings.FIELD_ENCRYPTION_KEY = [NEW, OLD]

    call_command("rotate_feed_secrets", "--dry-run")
    source.refresh_from_db()
    assert not crypto.encrypted_with_first_key(source.password_encrypted)
    assert "would re-encrypt 2" in capsys.readouterr().out

    call_command("rotate_feed_secrets")
    assert "re-encrypted 2, already on the first key 0, unreadable 0" in capsys.readouterr().out
    settings.FIELD_ENCRYPTION_KEY = [NEW]  # the old key can go now
    source.refresh_from_db()
    empty.refresh_from_db()
    assert crypto.decrypt(source.password_encrypted) == "pw-source"
    assert empty.password_encrypted == ""
    run_token = FeedRun.objects.get(pk=run.pk).one_time_password_encrypted
    assert crypto.decrypt(run_token) == "pw-once"
    event = AuditEvent.objects.get(action="feed_secrets.rotated")
    assert event.changes == {"rotated": 2, "unreadable": 0}

    call_command("rotate_feed_secrets")  # idempotent
    assert "re-encrypted 0, already on the first key 2" in capsys.readouterr().out


@pytest.mark.django_db
def test_rotate_feed_secrets_reports_passwords_no_key_decrypts(settings):
    settings.FIELD_ENCRYPTION_KEY = [OTHER]
    lost = ProductSourceFactory(password_encrypted=crypto.encrypt("pw"))
    settings.FIELD_ENCRYPTION_KEY = [NEW]
    with pytest.raises(CommandError, match=f"ProductSource #{lost.pk}"):
        call_command("rotate_feed_secrets")
    lost.refresh_from_db()
    settings.FIELD_ENCRYPTION_KEY = [OTHER]
    assert crypto.decrypt(lost.password_encrypted) == "pw"  # left as it was


def test_derived_key_only_without_configuration(settings):
    settings.FIELD_ENCRYPTION_KEY = []
    assert crypto.configured_keys() == [crypto.derived_key(settings.SECRET_KEY)]
