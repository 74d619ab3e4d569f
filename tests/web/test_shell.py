"""The web shell over HTTP (no browser): error pages, static files, redirects."""

from __future__ import annotations

import httpx

HTML = {"accept": "text/html,application/xhtml+xml"}


async def test_unknown_page_is_a_404_page_in_the_site_look(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text
    assert '<link rel="stylesheet" href="/static/app.css' in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]


async def test_api_paths_keep_problem_json_even_for_browsers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/brain/no-such-thing", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "http.not_found"


async def test_non_browser_clients_get_problem_json_outside_api(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page", headers={"accept": "application/json"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_static_assets_are_served_with_caching(client: httpx.AsyncClient) -> None:
    css = await client.get("/static/app.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "max-age" in css.headers["cache-control"]
    assert "--primary" in css.text
    escaped = await client.get("/static/../shell.py", headers=HTML)
    assert escaped.status_code == 404
    assert "def render" not in escaped.text


async def test_bare_visit_goes_to_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers=HTML)
    assert response.status_code == 302
    assert response.headers["location"] == "/login"
