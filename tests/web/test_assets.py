"""The widget's weight, compression and caching, and the pages served without a browser."""

from __future__ import annotations

import gzip

import httpx

from palabre.web.routes import assets
from tests.conftest import LiveServer

BUDGET = 15 * 1024  # JavaScript + CSS, gzipped, as served


def raw_get(server: LiveServer, path: str, **headers: str) -> tuple[httpx.Response, bytes]:
    with (
        httpx.Client(base_url=server.url) as client,
        client.stream("GET", path, headers={"Accept-Encoding": "gzip", **headers}) as response,
    ):
        return response, b"".join(response.iter_raw())


def test_widget_is_under_15_kb_gzipped_as_served(server: LiveServer):
    total = 0
    for name in ("embed.js", "embed.css"):
        response, body = raw_get(server, "/" + name)
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert gzip.decompress(body) == assets()[name].body
        total += len(body)
    print(f"widget: {total} bytes gzipped (budget {BUDGET})")
    assert total <= BUDGET, f"the widget weighs {total} bytes gzipped, over {BUDGET}"


def test_versioned_assets_are_immutable_and_the_stable_url_revalidates(server: LiveServer):
    js = assets()["embed.js"]
    response, _ = raw_get(server, f"/embed.js?v={js.version}")
    assert "immutable" in response.headers["cache-control"]
    assert "max-age=31536000" in response.headers["cache-control"]
    response, _ = raw_get(server, "/embed.js")
    assert "immutable" not in response.headers["cache-control"]
    assert response.headers["etag"] == js.etag
    assert "Accept-Encoding" in response.headers["vary"]
    again, body = raw_get(server, "/embed.js", **{"If-None-Match": js.etag})
    assert again.status_code == 304 and body == b""
    # The script loads its stylesheet by content hash, so the CSS is cached for a year.
    assert f"embed.css?v={assets()['embed.css'].version}".encode() in js.body
    plain = httpx.get(server.url + "/embed.css", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["content-type"].startswith("text/css")


def test_widget_inserts_untrusted_text_only_through_text_nodes():
    source = assets()["embed.js"].body.decode()
    # The only innerHTML assignments take the server's sanitised comment HTML.
    lines = [line.strip() for line in source.splitlines() if "innerHTML" in line]
    assert lines and all(
        line.startswith(("body.innerHTML = c.html", "body.innerHTML = r.data.html"))
        or line.startswith("*")
        for line in lines
    ), lines
    for forbidden in ("outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert forbidden not in source


def test_demo_page_is_a_news_article_with_the_widget(server: LiveServer):
    response = httpx.get(server.url + "/")
    assert response.status_code == 200
    html = response.text
    assert "Home" in html and "Technology" in html and "»" in html
    assert '<div id="palabre-thread"></div>' in html
    assert f'src="/embed.js?v={assets()["embed.js"].version}"' in html
    assert "<article>" in html
    french = httpx.get(server.url + "/demo/some-story?lang=fr")
    assert '<html lang="fr">' in french.text


def test_admin_and_privacy_pages_have_a_strict_policy(server: LiveServer):
    for path in ("/admin", "/privacy"):
        response = httpx.get(server.url + path)
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
