"""Admin's delete page and "Delete selected" action, as staff use them, and what they say."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.db import models
from django.urls import reverse

NO_OWNER_LEFT = (
    "Nothing was deleted. A tenant needs at least one owner, and this would leave none in "
    "{tenants}. Make another member an owner first."
)


def admin_messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def admin_url(obj: models.Model, view: str) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def admin_delete(admin_client, obj: models.Model, *, step: str = "confirmed"):
    """``obj``'s delete page: its "confirmation page" or the "confirmed" delete."""
    if step == "confirmed":
        return admin_client.post(admin_url(obj, "delete"), {"post": "yes"}, follow=True)
    return admin_client.get(admin_url(obj, "delete"), follow=True)


def admin_delete_selected(admin_client, objs: list[models.Model], *, confirmed: bool = True):
    opts = objs[0]._meta
    action = {"action": "delete_selected", "_selected_action": [o.pk for o in objs]}
    if confirmed:
        action["post"] = "yes"
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return admin_client.post(changelist, action, follow=True)
