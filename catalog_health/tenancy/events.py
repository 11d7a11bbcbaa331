"""What changed on a tenant, for the apps built on the tenancy core to react to.

The tenancy core imports no app (import contracts in .importlinter): it sends these signals
where the change is made, and the apps connect their receivers in their
``AppConfig.ready()``. Receivers run inside the sender's transaction, so what they write
commits or rolls back with the change itself.
"""

from __future__ import annotations

from django.dispatch import Signal

# The tenant's time zone changed (tenant, old, new; the sender is None): wall-clock
# schedules (feeds' daily and weekly pulls) are due at other instants now.
time_zone_changed = Signal()
