"""Where each app registers what the isolation sweep needs to build its objects.

Add a line per URL kwarg (`OBJECT_FACTORIES["run_id"] = lambda t: ...pk`) and per API model
(`MODEL_FACTORIES[FeedRun] = lambda t: ...`).
"""


def extend(object_factories: dict, plain_kwargs: dict, model_factories: dict) -> None:
    # ecr: product issues over the API (pages use catalog_id only).
    from ecr.models import ProductIssue
    from ecr.tests.factories import ProductIssueFactory

    model_factories[ProductIssue] = lambda t: ProductIssueFactory(
        tenant=t, product__tenant=t, product__catalog__tenant=t
    )

    # flagged (#6): orders and impressions live in catalogs, flag states in flagged.
    from catalogs.models import DailyImpression, Order
    from catalogs.tests.order_factories import DailyImpressionFactory, OrderFactory
    from flagged.models import FlagState
    from flagged.tests.factories import FlagStateFactory

    model_factories[Order] = lambda t: OrderFactory(product__catalog__tenant=t)

    # catalogs (#20): an uploaded order export under its catalog.
    from catalogs.models import OrderUpload
    from catalogs.tests.factories import CatalogFactory

    def _upload(t):
        catalog = CatalogFactory(tenant=t)
        return OrderUpload.objects.create(tenant=t, catalog=catalog, data=b"x").pk

    object_factories["upload_id"] = _upload
    # catalogs: a saved column mapping (its delete page).
    from catalogs.models import ColumnMappingPreset

    def _preset(t):
        name = f"Mine {ColumnMappingPreset.objects.count()}"
        return ColumnMappingPreset.objects.create(
            tenant=t, kind="orders", name=name, header=["a"], columns={"order_id": "a"}
        ).pk

    object_factories["preset_id"] = _preset
    model_factories[DailyImpression] = lambda t: DailyImpressionFactory(product__catalog__tenant=t)
    model_factories[FlagState] = lambda t: FlagStateFactory(product__catalog__tenant=t)

    # feeds (#4): product sources and feed runs.
    from feeds.models import FeedRun, ProductSource
    from feeds.tests.factories import FeedRunFactory, ProductSourceFactory

    object_factories["source_id"] = lambda t: ProductSourceFactory(catalog__tenant=t).pk
    object_factories["run_id"] = lambda t: FeedRunFactory(source__catalog__tenant=t).pk
    model_factories[ProductSource] = lambda t: ProductSourceFactory(catalog__tenant=t)
    model_factories[FeedRun] = lambda t: FeedRunFactory(source__catalog__tenant=t)

    # channels (#19): channel feeds (pages by feed_id, the API by model).
    from channels.models import ChannelFeed
    from channels.tests.factories import ChannelFeedFactory

    object_factories["feed_id"] = lambda t: ChannelFeedFactory(catalog__tenant=t).pk
    model_factories[ChannelFeed] = lambda t: ChannelFeedFactory(catalog__tenant=t)
