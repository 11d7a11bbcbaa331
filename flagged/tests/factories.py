from datetime import UTC, datetime

import factory

from catalogs.tests.factories import ProductFactory
from flagged.models import FlagState
from flagged.scoring import FlagStatus, Level


class FlagStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FlagState

    product = factory.SubFactory(ProductFactory)
    tenant = factory.SelfAttribute("product.tenant")
    status = FlagStatus.IMPACTED
    status_since = datetime(2026, 3, 1, tzinfo=UTC)
    updated_at = datetime(2026, 3, 1, tzinfo=UTC)
    worst_level = Level.IMPACTED
    overdue_num = 12
    overdue_den = 100
    overdue_level = Level.IMPACTED
