"""The benchmark tooling at tiny sizes: seed data, bulk loader, load generator, RESULTS.md.

No timing is asserted here; bench/RESULTS.md holds the measurements.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench import seed_data
from bench.loadgen import Request, run_load, tree_memory
from bench.results_md import update_section
from palabre.store import NewComment
from palabre.store.bulk import BulkLoader
from tests.conftest import SITE_ORIGIN, LiveServer, ServerFactory


def _depth(items: list[dict[str, Any]], level: int = 0) -> int:
    return max((max(level, _depth(c["replies"], level + 1)) for c in items), default=level - 1)


def _size(items: list[dict[str, Any]]) -> int:
    return sum(1 + _size(c["replies"]) for c in items)


def test_compare_dataset_has_the_shape_the_issue_asks_for() -> None:
    data = seed_data.compare_dataset()
    assert len(data) == 200
    hot = data[0]
    depths = Counter(c.depth for c in hot.comments)
    assert len(hot.comments) == 500 and depths[0] == 200
    assert set(depths) == {0, 1, 2, 3, 4}
    assert all(10 <= len(t.comments) <= 30 for t in data[1:])
    assert all(c.parent is None or c.parent < i for t in data for i, c in enumerate(t.comments))
    again = seed_data.compare_dataset()
    assert [c.text for c in again[0].comments] == [c.text for c in hot.comments]
    texts = [c.text for c in hot.comments]
    assert any("**" in t for t in texts) and any("](https://" in t for t in texts)


def test_scale_stream_gives_exactly_the_requested_counts() -> None:
    threads = list(seed_data.scale_threads(37, 1000))
    assert len(threads) == 37
    assert sum(len(t.comments) for t in threads) == 1000
    assert len({t.uri for t in threads}) == 37


@pytest.fixture
def seeded(server_factory: ServerFactory) -> tuple[LiveServer, list[seed_data.SeedThread]]:
    server = server_factory()
    data = seed_data.compare_dataset(threads=6)
    rt = server.runtime
    loader = BulkLoader(
        rt.store.engine, rt.site_id("blog"), batch_size=300, progress=False,
        avatar=lambda email, author: rt.tokens.avatar_hash(email, author, None),
    )  # fmt: skip
    result = loader.load(data, seed_data.count(data))
    assert result.comments == seed_data.count(data) and result.threads == 6
    return server, data


def test_bulk_loaded_threads_read_back_whole_through_the_api(
    seeded: tuple[LiveServer, list[seed_data.SeedThread]],
) -> None:
    server, data = seeded
    with server.client() as http:
        hot = http.get("/api/comments", params={"uri": data[0].uri, "limit": 500}).json()
        assert _size(hot["comments"]) == 500 and len(hot["comments"]) == 200
        assert _depth(hot["comments"]) == 4
        assert hot["thread"]["count"] == 500
        first = hot["comments"][0]
        assert first["html"].startswith("<") and first["avatar"]
        counts = http.get("/api/counts", params=[("uri", t.uri) for t in data]).json()
        assert counts == {t.uri: len(t.comments) for t in data}
    # Ids continue after the bulk load (PostgreSQL's sequences were moved past them).
    rt = server.runtime
    row = rt.store.comments.create_comment(
        rt.site_id("blog"),
        data[1].uri,
        "",
        NewComment(author="After", text="after", html="<p>after</p>", status="approved"),
    )
    assert row["id"] == seed_data.count(data) + 1


@pytest.mark.parametrize("tool", ["python", "wrk"])
def test_load_generator_drives_a_live_server(
    seeded: tuple[LiveServer, list[seed_data.SeedThread]], tool: str
) -> None:
    if tool == "wrk" and not shutil.which("wrk"):
        pytest.skip("wrk is not installed (apt-get install wrk)")
    server, data = seeded
    origin = (("Origin", SITE_ORIGIN),)
    reads = [Request("GET", f"/api/comments?uri={t.uri}", headers=origin) for t in data]
    result = run_load(server.url, reads, connections=4, duration=1.0, tool=tool)
    assert result.requests > 0 and result.errors == 0
    assert 0 < result.p50_ms <= result.p99_ms
    bad = run_load(
        server.url, [Request("GET", "/api/comments")], connections=2, duration=0.5, tool=tool
    )
    assert bad.requests > 0 and bad.errors == bad.requests  # 422s are counted as errors


def test_memory_of_a_process_tree_is_read_from_proc() -> None:
    import os

    rss, pss = tree_memory(os.getpid())
    assert rss > 10 and 0 < pss <= rss


def test_update_section_replaces_only_its_own_section(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text("# Results\n\n## Akismet API\n\nkeep me\n\n## Comments vs Isso\n\nold\n")
    update_section("Comments vs Isso", "new table", path)
    update_section("At scale", "scale table", path)
    update_section("Comments vs Isso", "newer table", path)
    text = path.read_text()
    assert "keep me" in text and "newer table" in text and "scale table" in text
    assert "old" not in text and "new table\n" not in text
    assert (
        text.index("## Akismet API") < text.index("## Comments vs Isso") < text.index("## At scale")
    )
