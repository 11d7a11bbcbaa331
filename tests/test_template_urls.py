"""Every URL from a feed that a page renders goes through one filter, `http_url`
(catalogs/templatetags/catalog_urls.py): only http(s) URLs reach an href or src.

1. A scan of every template: a feed URL field used in an attribute, or bound by `{% with %}`,
   is filtered by http_url.
2. Every tenant page rendered with hostile feed URLs (javascript:, data:, vbscript:, with
   mixed case, leading blanks and embedded tabs): no URL attribute carries a dangerous scheme.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import DailyImpressionFactory, OrderFactory
from ecr.tests.factories import ProductIssueFactory
from feeds.tests.factories import FeedRunChangeFactory, FeedRunFactory
from flagged.tests.factories import FlagStateFactory

from .urlwalk import tenant_routes

ROOT = Path(__file__).resolve().parents[1]
FEED_URL_FIELDS = ("image_link", "additional_image_links", "link")
URL_ATTRIBUTES = {"href", "src", "srcset", "action", "formaction", "poster", "data", "xlink:href"}
_FIELD = re.compile(r"\.(" + "|".join(FEED_URL_FIELDS) + r")\b")


def _templates() -> list[Path]:
    return [
        p
        for p in ROOT.glob("**/templates/**/*.html")
        if not {".venv", "staticfiles", "node_modules"} & set(p.parts)
    ]


def _unfiltered_uses(text: str) -> list[str]:
    found = []
    # {{ … }} inside an attribute value
    for attr, expr in re.findall(r'([\w:-]+)\s*=\s*"[^"]*?\{\{(.*?)\}\}', text, re.S):
        if _FIELD.search(expr) and "http_url" not in expr:
            found.append(f'{attr}="{{{{{expr.strip()}}}}}"')
    # {% with name=… %} binding a feed URL (then used anywhere)
    for binding in re.findall(r"\{%\s*with\s+(.*?)%\}", text, re.S):
        for name, expr in re.findall(r"(\w+)=(\S+)", binding):
            if _FIELD.search(expr) and "http_url" not in expr:
                found.append(f"with {name}={expr}")
    # {% for url in ….additional_image_links %} used in an attribute
    for name in re.findall(r"\{%\s*for\s+(\w+)\s+in\s+\S*additional_image_links", text):
        if re.search(r'(?:src|href)\s*=\s*"\{\{\s*' + re.escape(name) + r"\s*[|}]", text):
            found.append(f"for {name} in additional_image_links used as a URL")
    return found


def test_scan_finds_the_templates_it_must_cover():
    names = {p.name for p in _templates()}
    assert {"flagged_list.html", "flagged_detail.html", "catalog_detail.html"} <= names
    # the scan itself catches the pattern this test exists for
    assert _unfiltered_uses('<img src="{{ p.image_link }}">')
    assert _unfiltered_uses("{% with src=p.image_link %}")
    assert not _unfiltered_uses('{% with src=p.image_link|http_url %}<img src="{{ src }}">')


def test_every_template_filters_feed_urls_in_attributes():
    problems = {}
    for path in _templates():
        if uses := _unfiltered_uses(path.read_text()):
            problems[str(path.relative_to(ROOT))] = uses
    assert not problems, problems


class _Urls(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value:
                self.values.append((tag, name, value))


def _dangerous(value: str) -> bool:
    compact = re.sub(r"[\x00-\x20]", "", value).lower()
    return compact.startswith(("javascript:", "data:", "vbscript:"))


HOSTILE_URLS = [
    "javascript:alert(1)",
    "  JaVaScRiPt:alert(document.domain)",
    "java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
]


@pytest.mark.django_db
@pytest.mark.parametrize("hostile", HOSTILE_URLS)
def test_no_page_renders_a_hostile_feed_url(client, member, tenant_a, hostile):
    owner = member(tenant_a, Role.OWNER, username="owner-urls")
    catalog = CatalogFactory(tenant=tenant_a)
    product = ProductFactory(
        catalog=catalog,
        sku="URL-1",
        image_link=hostile,
        link=hostile,
        additional_image_links=[hostile, hostile],
    )
    ProductIssueFactory(product=product)
    FlagStateFactory(product=product)
    OrderFactory(product=product, shipped_at=None, tracking_number="")
    DailyImpressionFactory(product=product)
    run = FeedRunFactory(source__catalog=catalog)
    FeedRunChangeFactory(
        run=run, sku="URL-1", product_id=product.pk, changes={"image_link": ["", hostile]}
    )
    client.force_login(owner)
    values = {
        "tenant_slug": tenant_a.slug,
        "catalog_id": catalog.pk,
        "product_id": product.pk,
        "source_id": run.source_id,
        "run_id": run.pk,
    }
    rendered = set()
    for route in tenant_routes():
        if not set(route.kwargs) <= values.keys():
            continue
        url = reverse(route.name, kwargs={k: values[k] for k in route.kwargs})
        response = client.get(url)
        if getattr(response, "streaming", False) or "html" not in response.get("Content-Type", ""):
            continue
        parser = _Urls()
        parser.feed(response.content.decode())
        bad = [v for v in parser.values if _dangerous(v[2])]
        assert not bad, (route.name, bad)
        rendered.add(route.name)
    # the pages that show products, images or links were among them
    assert {
        "catalogs:catalog_detail",
        "catalogs:product_detail",
        "flagged:flagged_list",
        "flagged:flagged_detail",
        "ecr:issue_products",
        "feeds:run_detail",
    } <= rendered
