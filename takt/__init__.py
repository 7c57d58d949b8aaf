"""The Takt node: the composition root that wires the core (``edge``: domain, store, service) to the adapters
(``connectors``, ``scanners``, ``erp_sync``) and serves the people and machines of a line.

It holds the node's runtime, the site configuration that gathers every section, the ``takt`` command, the HTTP API
and the pages. It imports everything; nothing of the product imports it (docs/architecture.md)."""
