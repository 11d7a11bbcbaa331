"""Writes and rules of channel feeds: create, change, rotate, delete (each audited), the
feed body, the preview, and the fetch log. Plain functions, keyword-only, tenant explicit."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any
from weakref import WeakKeyDictionary

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.models import Tenant
from catalog_health.tenancy.services import audit_record
from catalogs.models import Catalog

from . import rules as feed_rules
from . import selectors, specs, writers, xml_sql
from .models import ChannelFeed, ChannelFeedFetch, FlaggedMode

SETTINGS_FIELDS = ("name", "channel", "format", "flagged", "label_slot", "include_pending")
PREVIEW_ROWS = 10


def new_token() -> str:
    """256 bits of randomness, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def feed_path(feed: ChannelFeed) -> str:
    """The feed's public path (the secret is in it); callers make it absolute."""
    return reverse("channel_out:feed_out", kwargs={"token": feed.token, "filename": feed.filename})


def feed_columns(feed: ChannelFeed) -> list[str]:
    """The feed's header: the channel's columns, the flag label, then what the rules add."""
    return feed_rules.output_columns(_base_columns(feed), feed.rules or [])


def _base_columns(feed: ChannelFeed) -> list[str]:
    slot = feed.label_slot if feed.flagged == FlaggedMode.LABEL else None
    return specs.base_columns(feed.channel, label_slot=slot)


def feed_validate(feed: ChannelFeed) -> None:
    """The feed's settings and rules together; ValidationError naming the field otherwise."""
    errors: dict[str, list[str]] = {}
    if feed.channel not in specs.CHANNEL_FORMATS:
        errors["channel"] = ["Choose google, meta or tiktok."]
    elif feed.format not in specs.CHANNEL_FORMATS[feed.channel]:
        allowed = " or ".join(specs.CHANNEL_FORMATS[feed.channel])
        errors["format"] = [f"{feed.get_channel_display()} feeds are {allowed}."]
    if feed.flagged not in FlaggedMode.values:
        errors["flagged"] = ["Choose exclude, label or ignore."]
    if not isinstance(feed.label_slot, int) or not 0 <= feed.label_slot <= 4:
        errors["label_slot"] = ["custom_label_0 to custom_label_4: a number from 0 to 4."]
    if not errors and _catalog_has_channel(feed):
        errors["channel"] = [
            f"This catalog already has a {feed.get_channel_display()} feed (one feed per "
            "catalog and channel): change that feed instead."
        ]
    if not errors:
        problems = feed_rules.validate_rules(
            feed.rules,
            columns=_base_columns(feed),
            id_column=specs.SPECS[feed.channel].id_column,
            value_problem=functools.partial(specs.value_problem, feed.channel),
            required=specs.SPECS[feed.channel].required,
        )
        if problems:
            errors["rules"] = problems
    if errors:
        raise ValidationError(errors)


def _catalog_has_channel(feed: ChannelFeed) -> bool:
    """Another feed of the feed's catalog is for its channel. One feed per catalog and channel
    is kept here, not by a database constraint: a constraint's migration would have had to
    delete the duplicates a database may already hold, feeds whose URLs channels fetch.
    feed_create and feed_update lock the catalog's row first, so two requests at once cannot
    both pass."""
    others = ChannelFeed.objects.for_tenant(feed.tenant_id).filter(
        catalog_id=feed.catalog_id, channel=feed.channel
    )
    return others.exclude(pk=feed.pk).exists() if feed.pk else others.exists()


def _lock_catalog(catalog_id: int) -> None:
    # the feeds of one catalog are created and change channel one at a time
    Catalog.objects.select_for_update().filter(pk=catalog_id).exists()


def _check_tenant(tenant: Tenant, *objs: Any) -> None:
    for obj in objs:
        if obj.tenant_id != tenant.pk:  # a programming error, said like a missing object
            raise type(obj).DoesNotExist


@transaction.atomic
def feed_create(
    *,
    tenant: Tenant,
    actor,
    catalog: Catalog,
    channel: str,
    format: str,  # the API's field name (shadows the builtin here only)
    flagged: str = FlaggedMode.EXCLUDE,
    include_pending: bool = False,
    label_slot: int = 0,
    name: str = "",
    rules: list | None = None,
) -> ChannelFeed:
    _check_tenant(tenant, catalog)
    _lock_catalog(catalog.pk)
    feed = ChannelFeed(
        tenant=tenant,
        catalog=catalog,
        name=name.strip(),
        channel=channel,
        format=format,
        flagged=flagged,
        include_pending=include_pending,
        label_slot=label_slot,
        rules=rules or [],
        token=new_token(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    feed_validate(feed)
    feed.save()
    audit_record(
        tenant=tenant,
        actor=actor,
        action="channel_feed.created",
        target=feed,
        changes={f: getattr(feed, f) for f in (*SETTINGS_FIELDS, "rules")}
        | {"catalog": catalog.pk},
    )
    return feed


def feed_keep_former_filename(feed: ChannelFeed, *, old: str) -> None:
    """After a change of channel or format (not saved yet): the URL the channel was given,
    old, answers with a redirect to the new one (delivery) instead of a 404."""
    names = [*feed.former_filenames, *([old] if old not in feed.former_filenames else [])]
    feed.former_filenames = [n for n in names if n != feed.filename]


@transaction.atomic
def feed_update(*, tenant: Tenant, actor, feed: ChannelFeed, data: dict) -> ChannelFeed:
    """Change settings and/or rules; the audit row keeps before and after of what changed.
    A new channel or format keeps the old file name as a redirect."""
    _check_tenant(tenant, feed)
    old_filename = feed.filename
    changes = {}
    for field in (*SETTINGS_FIELDS, "rules"):
        if field in data and getattr(feed, field) != data[field]:
            changes[field] = [getattr(feed, field), data[field]]
            setattr(feed, field, data[field])
    if changes:
        if "channel" in changes:
            _lock_catalog(feed.catalog_id)
        feed_validate(feed)
        feed_keep_former_filename(feed, old=old_filename)
        feed.save()
        audit_record(
            tenant=tenant,
            actor=actor,
            action="channel_feed.rules_changed"
            if set(changes) == {"rules"}
            else "channel_feed.updated",
            target=feed,
            changes=changes,
        )
    return feed


@transaction.atomic
def feed_rotate(*, tenant: Tenant, actor, feed: ChannelFeed) -> ChannelFeed:
    """A new secret URL; the old one (and its former file names) is a 404 from now on."""
    _check_tenant(tenant, feed)
    feed.token = new_token()
    feed.former_filenames = []  # nobody was given a URL of the new token with those
    feed.save(update_fields=["token", "former_filenames", "updated_at"])
    audit_record(tenant=tenant, actor=actor, action="channel_feed.rotated", target=feed)
    return feed


@transaction.atomic
def feed_set_basic_auth(
    *, tenant: Tenant, actor, feed: ChannelFeed, username: str, password: str
) -> ChannelFeed:
    """HTTP Basic credentials the channel must send; an empty username removes them. The
    password is stored hashed and never shown again."""
    _check_tenant(tenant, feed)
    username = username.strip()
    if username and (":" in username or len(username) > 150):
        raise ValidationError(
            {"basic_username": ["A user name without ':' of up to 150 characters."]}
        )
    if username and len(password) < 8:
        raise ValidationError({"basic_password": ["Use a password of at least 8 characters."]})
    feed.basic_username = username
    feed.basic_password_hash = make_password(password) if username else ""
    feed.save(update_fields=["basic_username", "basic_password_hash", "updated_at"])
    audit_record(
        tenant=tenant,
        actor=actor,
        action="channel_feed.credentials_set" if username else "channel_feed.credentials_removed",
        target=feed,
        changes={"basic_username": username},
    )
    return feed


@transaction.atomic
def feed_delete(*, tenant: Tenant, actor, feed: ChannelFeed) -> None:
    _check_tenant(tenant, feed)
    audit_record(tenant=tenant, actor=actor, action="channel_feed.deleted", target=feed)
    feed.delete()


# The deletions already noted in each atomic block a delete runs in (Django's delete opens
# a new one per call and sends a signal per row): one UPDATE per catalog however many rows
# go. An entry goes with its block; a block rolled back takes its UPDATE with it.
_noted_in_block: WeakKeyDictionary[Any, set[tuple[int, int | None]]] = WeakKeyDictionary()


def feeds_note_deletion(*, tenant_id: int, catalog_id: int | None, using: str) -> None:
    """A product of the catalog (or, catalog_id None, a flag state of the tenant) was
    deleted: the feeds that may have carried it get a new version (content_deleted_at, read
    with the feed's row, so a 304 costs no query more), in the deleting transaction."""
    blocks = connections[using].atomic_blocks
    if blocks:
        noted = _noted_in_block.setdefault(blocks[-1], set())
        if (tenant_id, catalog_id) in noted:
            return
        noted.add((tenant_id, catalog_id))
    feeds = ChannelFeed.objects.using(using).for_tenant(tenant_id)
    if catalog_id is None:
        feeds = feeds.exclude(flagged=FlaggedMode.IGNORE)  # flags change nothing there
    else:
        feeds = feeds.filter(catalog_id=catalog_id)
    feeds.update(content_deleted_at=timezone.now())


def feed_check_basic_auth(feed: ChannelFeed, *, username: str, password: str) -> bool:
    if not feed.has_basic_auth:
        return True
    same_user = secrets.compare_digest(username.encode(), feed.basic_username.encode())
    # always hash, so a wrong user name takes as long as a wrong password
    ok = check_password(password, feed.basic_password_hash)
    return same_user and ok


def feed_items(
    feed: ChannelFeed, *, limit: int | None = None, invalid: list[int] | None = None
) -> Iterator[dict[str, str]]:
    """The feed's items after its rules, as the channel takes them (texts within its limits,
    no item it would refuse), streamed from the database. invalid[0] counts the items left
    out because a rule gave a typed column (price, availability, condition, a link) a value
    the channel refuses."""
    slot = feed.label_slot if feed.flagged == FlaggedMode.LABEL else None
    build = specs.item_builder(
        feed.channel, catalog_currency=feed.catalog.currency, label_slot=slot
    )
    rules = feed.rules or []
    apply = feed_rules.compile_rules(rules)
    # after the rules: a rule may lengthen a title, or give a product its brand
    fit = specs.item_fitter(feed.channel, after_rules=apply is not None)
    items = map(build, selectors.feed_rows(feed, limit=limit))
    if apply is not None:
        items = (item for item in map(apply, items) if item is not None)
    items = (item for item in map(fit, items) if item is not None)
    # only the typed columns the rules write: values the builder wrote are the channel's
    valid = specs.rule_value_checker(feed.channel, feed_rules.written_columns(rules))
    if valid is None:
        return items
    return _valid_only(items, valid, invalid if invalid is not None else [0])


def _valid_only(
    items: Iterator[dict[str, str]], valid: Callable[[dict[str, str]], bool], invalid: list[int]
) -> Iterator[dict[str, str]]:
    for item in items:
        if valid(item):
            yield item
        else:
            invalid[0] += 1


def _counted(items: Iterator[dict[str, str]], counter: list[int]) -> Iterator[dict[str, str]]:
    for item in items:
        counter[0] += 1
        yield item


def _unmarked(chunks: Iterator[bytes]) -> Iterator[bytes]:
    # closing: a client gone mid-feed ends the COPY now, not when garbage is collected
    with closing(chunks):
        for chunk in chunks:
            yield xml_sql.unmark(chunk)


def feed_body(
    feed: ChannelFeed,
    *,
    link: str = "",
    counter: list[int] | None = None,
    invalid: list[int] | None = None,
    fast: bool = True,
) -> Iterator[bytes]:
    """The whole feed as byte chunks (constant memory); counter[0] counts its products,
    invalid[0] those left out for a value a rule made invalid (`feed_items`).

    An XML feed without rules on PostgreSQL has its items written by the database
    (xml_sql, byte-identical to the Python writers, which every other feed uses)."""
    counter = counter if counter is not None else [0]
    if fast and feed.format == "xml" and not feed.rules and connection.vendor == "postgresql":
        slot = feed.label_slot if feed.flagged == FlaggedMode.LABEL else None
        sql, params = xml_sql.item_sql(
            feed.channel, catalog_currency=feed.catalog.currency, label_slot=slot
        )
        chunks = selectors.feed_item_chunks(feed, item_sql=sql, item_params=params, counter=counter)
        return writers.rss_around_items(_unmarked(chunks), title=feed.catalog.name, link=link)
    return writers.write_feed(
        feed.format,
        feed_columns(feed),
        _counted(feed_items(feed, invalid=invalid), counter),
        title=feed.catalog.name,
        link=link,
    )


def feed_preview(
    feed: ChannelFeed, *, rows: int = PREVIEW_ROWS, invalid: list[int] | None = None
) -> tuple[list[str], list[list[str]]]:
    """The header and the first rows as the channel will read them, for settings and rules
    not saved yet (validated first). The rules may exclude rows: read a few more. invalid[0]
    counts the products read that a rule's invalid value left out (`feed_items`)."""
    feed_validate(feed)
    columns = feed_columns(feed)
    out = []
    for item in feed_items(feed, limit=rows * 5, invalid=invalid):
        out.append([item.get(c, "") for c in columns])
        if len(out) >= rows:
            break
    return columns, out


def feed_record_fetch(
    *,
    feed: ChannelFeed,
    status: int,
    nbytes: int = 0,
    user_agent: str = "",
    gzip: bool = False,
    products: int | None = None,
    invalid_values: int | None = None,
) -> ChannelFeedFetch:
    """One line of the fetch log; a successful fetch (200 or 304) also marks the feed as
    fetched, which clears the "nobody fetched for a day" warning."""
    now = timezone.now()
    fetch = ChannelFeedFetch.objects.create(
        tenant_id=feed.tenant_id,
        feed=feed,
        at=now,
        status=status,
        bytes=nbytes,
        user_agent=user_agent[:300],
        gzip=gzip,
        products=products,
        invalid_values=invalid_values,
    )
    if status in (200, 304):
        ChannelFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now)
    return fetch
