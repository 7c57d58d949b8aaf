"""``/docs``: Swagger UI served by the node itself, from the Swagger UI 5 files of the ``swagger-ui-py`` package.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script; a node on a plant network may
reach no CDN, and the Content-Security-Policy (takt.api.headers) allows neither. Here the page, its script and
its stylesheet all come from the node, and the start-up script is a file of its own (``/docs/init.js``). Swagger
UI 5 is needed for the node's OpenAPI 3.1 document. Only the package's static files are used: its Python side
(handlers for other frameworks) is never imported.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

ASSETS = {  # what the page needs of the bundle: name -> media type
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
});
"""


def static_folder() -> Path:
    """The folder of Swagger UI's files in the installed ``swagger-ui-py`` (found without importing it)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed: the node serves /docs from its files")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def routes(title: str) -> list[Route]:
    """The docs page, its start-up script and the bundle's files it loads."""
    folder = static_folder()
    page = PAGE.format(title=title)

    async def docs(request: Request) -> Response:
        return HTMLResponse(page)

    async def init(request: Request) -> Response:
        return Response(INIT, media_type="text/javascript")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = ASSETS.get(name)
        if media_type is None:
            raise HTTPException(404, f"the docs have no file {name}")
        return FileResponse(folder / name, media_type=media_type)

    return [Route("/docs", docs, methods=["GET"], include_in_schema=False),
            Route("/docs/init.js", init, methods=["GET"], include_in_schema=False),
            Route("/docs/static/{name}", asset, methods=["GET"], include_in_schema=False)]
