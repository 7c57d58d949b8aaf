"""Events: facts the node recorded. Appended to the journal; the current state is their projection.

An event holds every value ``evolve`` needs, so replaying the journal alone rebuilds the state.
``subject`` names the thing the event is about (``lot:L123``), which the sync uses to keep
per-subject order.

One module per context (orders, production, inventory, pallets, kitting, quality, machines); this package
names them all, and ``EVENT_TYPES`` maps the journal's type names to them.
"""
from __future__ import annotations

from edge.domain.events import (
    base,
    capa,
    inventory,
    kitting,
    machines,
    maintenance,
    orders,
    outbound,
    pallets,
    production,
    quality,
    signatures,
    units,
)
from edge.domain.events.base import *  # noqa: F403
from edge.domain.events.capa import *  # noqa: F403
from edge.domain.events.inventory import *  # noqa: F403
from edge.domain.events.kitting import *  # noqa: F403
from edge.domain.events.machines import *  # noqa: F403
from edge.domain.events.maintenance import *  # noqa: F403
from edge.domain.events.orders import *  # noqa: F403
from edge.domain.events.outbound import *  # noqa: F403
from edge.domain.events.pallets import *  # noqa: F403
from edge.domain.events.production import *  # noqa: F403
from edge.domain.events.quality import *  # noqa: F403
from edge.domain.events.signatures import *  # noqa: F403
from edge.domain.events.units import *  # noqa: F403

__all__ = [
    *base.__all__, *orders.__all__, *production.__all__, *inventory.__all__, *pallets.__all__, *kitting.__all__,
    *quality.__all__, *machines.__all__, *signatures.__all__, *units.__all__, *maintenance.__all__, *capa.__all__,
    *outbound.__all__,
]

__all__ += ["EVENT_TYPES"]

# The journal's type names: every event of every context, by its class name.
EVENT_TYPES: dict[str, type[base.Event]] = {
    cls.__name__: cls
    for context in (orders, production, inventory, pallets, kitting, quality, machines, signatures, units,
                    maintenance, capa, outbound)
    for cls in (getattr(context, name) for name in context.__all__)
    if isinstance(cls, type) and issubclass(cls, base.Event)
}
