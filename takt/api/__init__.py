"""HTTP API of the node (FastAPI): REST routes per use case, auth and roles, health and metrics."""
