"""The core of Takt: the pure domain (edge.domain), the store with its journal and projections (edge.store) and the
one write path (edge.service). The adapters and the node (takt) build on it; it imports neither (docs/architecture.md)."""

__version__ = "0.1.0"
