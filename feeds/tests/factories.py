import factory

from catalogs.tests.factories import CatalogFactory
from feeds.models import FeedRowError, FeedRun, FeedRunChange, ProductSource, Schedule, Trigger


class ProductSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductSource

    catalog = factory.SubFactory(CatalogFactory)
    tenant = factory.SelfAttribute("catalog.tenant")
    name = factory.Sequence(lambda n: f"Main feed {n}")
    url = "https://feeds.example.com/products.csv"
    schedule = Schedule.MANUAL


class FeedRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedRun

    source = factory.SubFactory(ProductSourceFactory)
    tenant = factory.SelfAttribute("source.tenant")
    catalog = factory.SelfAttribute("source.catalog")
    trigger = Trigger.MANUAL
    mode = "replace"
    status = "succeeded"
    phase = "done"


class FeedRowErrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedRowError

    run = factory.SubFactory(FeedRunFactory)
    tenant = factory.SelfAttribute("run.tenant")
    line = 2
    sku = "X"
    field = "price"
    message = "cannot read price"


class FeedRunChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedRunChange

    run = factory.SubFactory(FeedRunFactory)
    tenant = factory.SelfAttribute("run.tenant")
    kind = "updated"
    sku = "X"
    changes = factory.LazyFunction(lambda: {"title": ["a", "b"]})


def held_import_run(*, tenant, catalog, path) -> FeedRun:
    """An import_feed run held for confirmation: 10 products, then a file that keeps 2 (the
    feed's file is written at ``path``)."""
    from feeds import services

    rows = [f"S{i},Hat {i},5 USD\n" for i in range(10)]
    for kept in (rows, rows[:2]):
        path.write_text("id,title,price\n" + "".join(kept))
        run = services.feed_import_command(
            tenant=tenant, catalog=catalog, location=str(path), mode="replace"
        )
    assert run.status == "needs_confirmation", run.error_message
    return run
