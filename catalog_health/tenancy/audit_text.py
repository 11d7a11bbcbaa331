"""The members page's activity in words: "ECR switched off for Main shop (71.4% Available)"
rather than `ecr.disabled`, and what an event's object is now ("Run #1, now Succeeded")
rather than what it was when the event was written ("Run #1 (Queued)").

`audit_sentence` is a pure function (a table of cases tests it); `audit_rows` reads the
events' objects as they are now, one query per kind of object, through the model's label
stored in the event: the tenancy core names no app.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps

from catalog_health.shares import share_text

from .roles import Role

# The nouns of action prefixes ("feed_source.updated" -> "product source").
NOUNS = {
    "api_token": "API token",
    "catalog": "catalog",
    "channel_feed": "channel feed",
    "feed_run": "feed run",
    "feed_source": "product source",
    "feed_settings": "feed settings",
    "impressions": "impressions",
    "mapping_preset": "column mapping",
    "member": "member",
    "order_upload": "order upload",
    "orders": "orders",
    "product": "product",
    "tenant": "tenant",
}
VERBS = {
    "created": "Created",
    "updated": "Changed",
    "changed": "Changed",
    "saved": "Saved",
    "deleted": "Deleted",
    "revoked": "Revoked",
    "rotated": "Rotated the secret URL of",
    "imported": "Imported",
    "retried": "Retried",
    "cancelled": "Cancelled",
    "confirmed": "Confirmed",
    "requested": "Requested",
}
# Actions whose sentence is not "<verb> <noun> <target>". {target} is the object's name.
SENTENCES = {
    "auth.login": "Signed in",
    "auth.login_failed": "Failed to sign in",
    "access.denied": "Was refused {what}",
    "ecr.disabled": "ECR switched off for {target}",
    "ecr.enabled": "ECR switched back on for {target}",
    "ecr.settings_changed": "Changed the ECR thresholds",
    "ecr.thresholds_overridden": "Set the ECR thresholds of {target}",
    "feed_run.requested": "Requested data now: {target}",
    "feed_run.confirmed": "Confirmed the held removals of {target}",
    "feed_run.cancelled": "Cancelled {target}",
    "feed_secrets.rotated": "Re-encrypted the stored feed passwords with the newest key",
    "feed_source.admin_saved": "Saved product source {target} in Django admin",
    "feed_source.host_key_pinned": "Pinned the SFTP host key of product source {target}",
    "channel_feed.credentials_set": "Set a password on channel feed {target}",
    "channel_feed.credentials_removed": "Removed the password of channel feed {target}",
    "channel_feed.rules_changed": "Changed the field rules of channel feed {target}",
    "member.invited": "Invited {target}",
    "member.role_changed": "Changed the role of {target}",
    "member.removed": "Removed {target}",
    "orders.marked_shipped": "Marked orders shipped",
    "orders.imported": "Imported orders",
    "impressions.imported": "Imported impressions",
}


def _role(value) -> str:
    try:
        return Role(value).label
    except ValueError:
        return str(value)


def _details(action: str, changes: dict[str, Any]) -> str:
    """A short tail for the actions whose changes say something a reader wants."""
    if action in ("member.invited", "member.role_changed", "member.removed") and isinstance(
        changes.get("role"), list | tuple
    ):
        old, new = [*changes["role"], None, None][:2]
        if old and new:
            return f" from {_role(old)} to {_role(new)}"
        if new:
            return f" as {_role(new)}"
        if old:
            return f", who was {_role(old)}"
    if action in ("ecr.disabled", "ecr.enabled") and isinstance(changes.get("ratio"), int | float):
        return f" ({share_text(changes['ratio'])} Available)"
    if action.endswith(".updated") and changes:
        fields = ", ".join(sorted(str(k) for k in changes)[:5])
        more = "…" if len(changes) > 5 else ""
        return f": {fields}{more}"
    return ""


# a membership's name ends with its role ("ann @ Acme (viewer)"), which a member sentence
# says in its tail already
_ROLE_NAMES = "|".join(re.escape(role.value) for role in Role)
_MEMBER_ROLE_SUFFIX = re.compile(rf" \((?:{_ROLE_NAMES})\)$")


def audit_sentence(action: str, target: str = "", changes: dict[str, Any] | None = None) -> str:
    """One audit event as a sentence without its subject (the page shows who)."""
    changes = changes or {}
    target = target.strip()
    if action.startswith("member.") and isinstance(changes.get("role"), list | tuple):
        target = _MEMBER_ROLE_SUFFIX.sub("", target)
    if action in SENTENCES:
        what = str(changes.get("action") or "a page").replace("_", " ")
        text = SENTENCES[action].format(target=target or "it", what=what)
        if "{target}" not in SENTENCES[action] and target and action != "access.denied":
            text += f" ({target})"
        return text + _details(action, changes)
    prefix, _, verb = action.partition(".")
    noun = NOUNS.get(prefix, prefix.replace("_", " "))
    words = VERBS.get(verb, verb.replace("_", " ").capitalize() or "Changed")
    return " ".join(p for p in (words, noun, target) if p) + _details(action, changes)


def audit_actor_name(actor, recorded: str) -> str:
    """Who did it: the account as it is now; once deleted, the username it had (not
    "system", which is what the platform does by itself, such as switching ECR off)."""
    if actor is not None:
        return str(actor)
    return f"{recorded} (deleted user)" if recorded else "system"


@dataclass(frozen=True)
class AuditRow:
    created_at: Any
    actor: str
    sentence: str
    state: str  # the object's state now, e.g. "Succeeded" for a run; "" when it has none
    gone: bool  # the object was deleted since


def split_state(text: str) -> tuple[str, str]:
    """A name and its state in brackets: "Run #1 (Queued)" -> ("Run #1", "Queued")."""
    text = text.strip()
    if text.endswith(")") and " (" in text:
        cut = text.rindex(" (")
        return text[:cut], text[cut + 2 : -1]
    return text, ""


def current_name(recorded: str, now: str | None) -> tuple[str, str]:
    """(name for the sentence, state now) of an event's object, from its name when recorded
    and its name now (None: deleted or not a tenant object). A name that differs only in its
    bracket is one object whose state changed: "Run #1 (Queued)" then "Run #1 (Succeeded)"
    gives ("Run #1", "Succeeded"); any other name is shown whole, today's if there is one."""
    if now is None or now == recorded:
        return (now or recorded).strip(), ""
    then_name, then_state = split_state(recorded)
    now_name, now_state = split_state(now)
    if then_state and now_state and then_name == now_name:
        return now_name, now_state
    return now.strip(), ""


def _tenant_model(label: str):
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    return model if hasattr(model._default_manager, "for_tenant") else None


def audit_rows(*, tenant, events: Iterable) -> list[AuditRow]:
    """Sentences for `events`, with each object's state as it is now (one query per model;
    an event's recorded state, e.g. a run "Queued" when requested, is history, not news)."""
    events = list(events)
    wanted: dict[str, set[str]] = defaultdict(set)
    for e in events:
        if e.target_type and e.target_id.isdigit():
            wanted[e.target_type].add(e.target_id)
    models = {label: _tenant_model(label) for label in wanted}
    current: dict[tuple[str, str], str] = {}
    for label, ids in wanted.items():
        if models[label] is None:
            continue
        # select_related(): the non-null foreign keys a __str__ may read, in the same query
        qs = models[label]._default_manager.for_tenant(tenant).select_related()
        objects = qs.in_bulk(list(ids))
        for pk, obj in objects.items():
            current[(label, str(pk))] = str(obj)
    rows = []
    for e in events:
        now = current.get((e.target_type, e.target_id))
        name, state = current_name(e.target_repr, now)
        rows.append(
            AuditRow(
                created_at=e.created_at,
                actor=audit_actor_name(e.actor, e.actor_username),
                sentence=audit_sentence(e.action, name, e.changes),
                state=state,
                gone=e.target_id.isdigit()
                and models.get(e.target_type) is not None
                and now is None,
            )
        )
    return rows
