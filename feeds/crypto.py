"""Encryption at rest of feed passwords (Fernet; keys from settings.FIELD_ENCRYPTION_KEY).

``FIELD_ENCRYPTION_KEY`` holds one Fernet key or several, comma-separated: the first key
encrypts, every key decrypts (MultiFernet). To rotate, put a new key in front, deploy, run
``manage.py rotate_feed_secrets`` (re-encrypts every stored password with the first key), then
drop the old key. Production settings refuse to start without a key; the other settings fall
back to a key derived from SECRET_KEY so that the embedded demo needs no configuration.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from catalog_health.environment import parse_fernet_keys, validate_fernet_keys


def derived_key(secret_key: str) -> str:
    """The key used when no FIELD_ENCRYPTION_KEY is configured (development and demo only).

    A deployment that ran on it can keep its stored passwords readable by listing this key
    after its new one and running ``rotate_feed_secrets``.
    """
    digest = hashlib.sha256(("feeds-password:" + secret_key).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def configured_keys() -> list[str]:
    keys = parse_fernet_keys(getattr(settings, "FIELD_ENCRYPTION_KEY", None))
    if not keys:
        keys = [derived_key(settings.SECRET_KEY)]
    validate_fernet_keys(keys)
    return keys


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in configured_keys()])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("the stored feed password cannot be decrypted (key changed?)") from exc


def rotate(token: str) -> str:
    """The same secret encrypted with the first key (MultiFernet.rotate); "" stays "".

    Raises ValueError when no configured key decrypts the token.
    """
    if not token:
        return ""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("the stored feed password cannot be decrypted (key changed?)") from exc


def encrypted_with_first_key(token: str) -> bool:
    """True when the first configured key decrypts the token (nothing to rotate)."""
    if not token:
        return True
    try:
        Fernet(configured_keys()[0].encode()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True
