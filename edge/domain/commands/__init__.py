"""Commands: what someone or something asks the node to do. Every input becomes one of these.

Each command carries its idempotency key and who asked (``actor`` with ``actor_roles``, and the
``source_device``). ``origin`` is ``edge`` for plant input and ``erp`` for changes downloaded from
the central systems (those are journaled but never pushed back).

One module per context (orders, production, inventory, pallets, kitting, quality, machines); this package
names them all, so ``from edge.domain import commands as c`` reaches every command.
"""
from __future__ import annotations

from edge.domain.commands import (
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
from edge.domain.commands.base import *  # noqa: F403
from edge.domain.commands.capa import *  # noqa: F403
from edge.domain.commands.inventory import *  # noqa: F403
from edge.domain.commands.kitting import *  # noqa: F403
from edge.domain.commands.machines import *  # noqa: F403
from edge.domain.commands.maintenance import *  # noqa: F403
from edge.domain.commands.orders import *  # noqa: F403
from edge.domain.commands.outbound import *  # noqa: F403
from edge.domain.commands.pallets import *  # noqa: F403
from edge.domain.commands.production import *  # noqa: F403
from edge.domain.commands.quality import *  # noqa: F403
from edge.domain.commands.signatures import *  # noqa: F403
from edge.domain.commands.units import *  # noqa: F403

__all__ = [
    *base.__all__, *orders.__all__, *production.__all__, *inventory.__all__, *pallets.__all__, *kitting.__all__,
    *quality.__all__, *machines.__all__, *signatures.__all__, *units.__all__, *maintenance.__all__, *capa.__all__,
    *outbound.__all__,
]
