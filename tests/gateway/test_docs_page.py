"""The API docs page: Swagger UI from our own origin, under a CSP without inline scripts."""

from __future__ import annotations

import re

import httpx

EXPECTED_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def directive(policy: str, name: str) -> str:
    for part in policy.split(";"):
        if part.strip().startswith(name + " "):
            return part.strip()
    raise AssertionError(f"no {name} in {policy}")


async def test_docs_page_uses_only_same_origin_assets(client: httpx.AsyncClient) -> None:
    page = await client.get("/api/brain/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert references and all(
        ref.startswith("/") and not ref.startswith("//") for ref in references
    )
    assert "http://" not in page.text and "https://" not in page.text
    assert len(scripts) == 2 and all("src=" in attributes for attributes in scripts), (
        "no inline script"
    )
    for reference in references:
        asset = await client.get(reference)
        assert asset.status_code == 200, reference
        suffix = reference[reference.rfind(".") :]
        assert asset.headers["content-type"].startswith(EXPECTED_TYPES[suffix]), reference
        assert asset.headers["x-content-type-options"] == "nosniff"
    bundle = await client.get("/api/brain/docs/assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text
    start = await client.get("/api/brain/docs/assets/swagger-init.js")
    assert "/api/brain/openapi.json" in page.text and "data-openapi-url" in start.text


async def test_docs_page_csp_allows_no_inline_or_foreign_script(client: httpx.AsyncClient) -> None:
    policy = (await client.get("/api/brain/docs")).headers["content-security-policy"]
    scripts = directive(policy, "script-src")
    assert scripts == "script-src 'self'"
    assert "unsafe-inline" not in scripts and "unsafe-eval" not in scripts
    assert "http" not in policy, "nothing is loaded from another origin"
    assert directive(policy, "connect-src") == "connect-src 'self'"


async def test_only_the_listed_files_are_served(client: httpx.AsyncClient) -> None:
    for name in ("index.html", "swagger-initializer.js", "..%2F..%2Fsettings.py"):
        response = await client.get(f"/api/brain/docs/assets/{name}")
        assert response.status_code == 404, name
