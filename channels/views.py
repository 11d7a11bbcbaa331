"""The catalog's Channel feeds tab: list and create feeds; one feed's URL, settings, rules
with a preview of the first rows, what it leaves out and why, and its fetch log."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from catalog_health.service_forms import add_service_errors
from catalog_health.tenancy.roles import Perm
from catalogs.views import CatalogMixin

from . import selectors, services, specs
from .forms import CredentialsForm, FeedForm, FeedSettingsForm
from .models import ChannelFeed


class FeedListView(CatalogMixin, TemplateView):
    template_name = "channels/feed_list.html"
    permission = Perm.VIEW
    write_permission = Perm.MANAGE_CATALOGS

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        catalog = self.get_catalog()
        feeds = list(selectors.feed_list(tenant=self.tenant, catalog=catalog))
        for feed in feeds:
            feed.url = self.request.build_absolute_uri(services.feed_path(feed))
            feed.stale = selectors.feed_is_stale(feed)
        ctx.update(
            catalog=catalog,
            feeds=feeds,
            form=kwargs.get("form") or FeedForm(),
            can_manage=self.can(Perm.MANAGE_CATALOGS),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        form = FeedForm(request.POST)
        if form.is_valid():
            try:
                feed = services.feed_create(
                    tenant=self.tenant,
                    actor=request.user,
                    catalog=self.get_catalog(),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Feed {feed} created.")
                return redirect(
                    "channels:feed_detail",
                    tenant_slug=self.tenant.slug,
                    catalog_id=feed.catalog_id,
                    feed_id=feed.pk,
                )
        return self.render_to_response(self.get_context_data(form=form))


class FeedDetailView(CatalogMixin, TemplateView):
    template_name = "channels/feed_detail.html"
    permission = Perm.VIEW
    write_permission = Perm.MANAGE_CATALOGS

    def load_objects(self) -> None:
        super().load_objects()
        try:
            self.feed = selectors.feed_get(
                tenant=self.tenant, feed_id=self.kwargs["feed_id"], catalog=self.get_catalog()
            )
        except ChannelFeed.DoesNotExist as exc:
            raise Http404("No such feed.") from exc

    def _settings_initial(self) -> dict:
        feed = self.feed
        initial = {f: getattr(feed, f) for f in services.SETTINGS_FIELDS}
        initial["rules"] = json.dumps(feed.rules, indent=2) if feed.rules else ""
        return initial

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        feed = kwargs.get("draft") or self.feed
        catalog = self.get_catalog()
        preview_error = None
        preview_invalid = [0]
        try:
            columns, rows = services.feed_preview(feed, invalid=preview_invalid)
        except ValidationError:
            columns, rows, preview_error = [], [], "Fix the settings to see a preview."
        products_url = reverse(
            "catalogs:catalog_detail",
            kwargs={"tenant_slug": self.tenant.slug, "catalog_id": catalog.pk},
        )
        flagged_url = reverse("flagged:flagged_list", kwargs={"tenant_slug": self.tenant.slug})
        ctx.update(
            catalog=catalog,
            feed=self.feed,
            url=self.request.build_absolute_uri(services.feed_path(self.feed)),
            settings_form=kwargs.get("settings_form")
            or FeedSettingsForm(initial=self._settings_initial()),
            credentials_form=kwargs.get("credentials_form")
            or CredentialsForm(initial={"basic_username": self.feed.basic_username}),
            preview_columns=columns,
            preview_rows=rows,
            preview_error=preview_error,
            preview_invalid=preview_invalid[0],
            is_draft="draft" in kwargs,
            left_out=selectors.feed_left_out(self.feed),
            last_complete_fetch=selectors.feed_last_complete_fetch(self.feed),
            spec=specs.SPECS[self.feed.channel],
            unavailable_url=f"{products_url}?review_status=unavailable",
            pending_url=f"{products_url}?review_status=pending",
            impacted_url=f"{flagged_url}?status=impacted&catalog={catalog.pk}",
            fetches=selectors.feed_fetches(tenant=self.tenant, feed=self.feed),
            stale=selectors.feed_is_stale(self.feed),
            can_manage=self.can(Perm.MANAGE_CATALOGS),
        )
        return ctx

    def _redirect(self):
        return redirect(
            "channels:feed_detail",
            tenant_slug=self.tenant.slug,
            catalog_id=self.feed.catalog_id,
            feed_id=self.feed.pk,
        )

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "")
        feed = self.feed
        if action == "rotate":
            services.feed_rotate(tenant=self.tenant, actor=request.user, feed=feed)
            messages.success(request, "New URL made; the old one no longer works.")
            return self._redirect()
        if action == "delete":
            services.feed_delete(tenant=self.tenant, actor=request.user, feed=feed)
            messages.success(request, f"Feed {feed} deleted.")
            return redirect(
                "channels:feed_list", tenant_slug=self.tenant.slug, catalog_id=feed.catalog_id
            )
        if action == "credentials":
            form = CredentialsForm(request.POST)
            if form.is_valid():
                try:
                    services.feed_set_basic_auth(
                        tenant=self.tenant,
                        actor=request.user,
                        feed=feed,
                        username=form.cleaned_data["basic_username"],
                        password=form.cleaned_data["basic_password"],
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, "Credentials saved.")
                    return self._redirect()
            return self.render_to_response(self.get_context_data(credentials_form=form))
        if action in ("preview", "save"):
            form = FeedSettingsForm(request.POST)
            if not form.is_valid():
                return self.render_to_response(self.get_context_data(settings_form=form))
            data = form.cleaned_data
            if action == "preview":
                draft = ChannelFeed(
                    **{f: getattr(feed, f) for f in ("pk", "tenant_id", "catalog_id", "token")}
                )
                draft.catalog = feed.catalog
                for f in (*services.SETTINGS_FIELDS, "rules"):
                    setattr(draft, f, data[f])
                try:
                    services.feed_validate(draft)
                except ValidationError as exc:
                    add_service_errors(form, exc)
                return self.render_to_response(
                    self.get_context_data(settings_form=form, draft=draft)
                )
            try:
                services.feed_update(tenant=self.tenant, actor=request.user, feed=feed, data=data)
            except ValidationError as exc:
                feed.refresh_from_db()  # the refused values stay in the form only
                add_service_errors(form, exc)
                return self.render_to_response(self.get_context_data(settings_form=form))
            messages.success(request, "Feed saved.")
            return self._redirect()
        raise Http404("Unknown action.")
