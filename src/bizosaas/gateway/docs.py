"""The API docs page (Swagger UI), served entirely from our own origin.

Swagger UI's files come from the `swagger-ui-bundle-v2` package (its `swagger-ui-dist`
build), so the page works offline and runs no third-party script. The page has no inline
script: it names the OpenAPI document in a data attribute and `swagger-init.js` (ours)
starts the UI, so the page's Content Security Policy allows scripts from this origin only
(see `security_headers.DOCS_CSP`).
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

from bizosaas.kit.errors import NotFound

_OWN_STATIC = Path(str(files("bizosaas.gateway") / "static"))
_SWAGGER = Path(str(swagger_ui_path))
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui.css": (_SWAGGER / "swagger-ui.css", "text/css; charset=utf-8"),
    "swagger-ui-bundle.js": (_SWAGGER / "swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "favicon-32x32.png": (_SWAGGER / "favicon-32x32.png", "image/png"),
    "swagger-init.js": (_OWN_STATIC / "swagger-init.js", "text/javascript; charset=utf-8"),
}
ASSET_CACHE = "public, max-age=3600"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""


def add_docs_routes(app: Starlette, *, docs_url: str, openapi_url: str, title: str) -> None:
    """`GET docs_url` (the page) and `GET docs_url/assets/<file>` (its files)."""
    assets_url = f"{docs_url}/assets"
    page = PAGE.format(
        title=escape(title),
        assets=escape(assets_url),
        openapi_url=escape(openapi_url),
    )

    async def docs_page(_request: Request) -> Response:
        return HTMLResponse(page, headers={"cache-control": "no-cache"})

    async def docs_asset(request: Request) -> Response:
        found = ASSETS.get(request.path_params["name"])
        if found is None:
            raise NotFound("No such file.")
        path, media_type = found
        return FileResponse(path, media_type=media_type, headers={"cache-control": ASSET_CACHE})

    app.add_route(docs_url, docs_page, include_in_schema=False)
    app.add_route(f"{assets_url}/{{name}}", docs_asset, include_in_schema=False)
