import factory

from catalogs.tests.factories import CatalogFactory
from channels.models import ChannelFeed
from channels.services import new_token


class ChannelFeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelFeed

    catalog = factory.SubFactory(CatalogFactory)
    tenant = factory.SelfAttribute("catalog.tenant")
    channel = "google"
    format = "xml"
    flagged = "exclude"
    token = factory.LazyFunction(new_token)
