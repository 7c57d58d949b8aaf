"""The ``takt`` command and its groups: ``main`` is the application; each adapter's group (``takt sync``, ``takt
b2mml``, ``takt scan``, ``takt opcua``) lives beside it, because the command is the node's door, not the adapters'."""
from takt.cli.main import app, main

__all__ = ["app", "main"]
