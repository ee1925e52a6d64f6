from __future__ import annotations

import threading

import pytest

from palabre.spam import CommentRecord, SiteState, SpamFilter

# A borderline comment: friendly, and with the author's website, but no link, contact or
# self-promotion in the text, so the shipped model lets it through until a site's labels
# say otherwise. (Self-promotion such as "I make videos too, visit my page" is held as
# spam from the start: docs/spam-filter.md, "The shipped model".)
BORDER = CommentRecord(
    text="Nice video! I cook too, would love it if you told me what you think of my recipes",
    author="Chef Tony",
    website="http://tonys-kitchen.example",
    ip="203.0.113.7",
)
NEAR = CommentRecord(
    text="Nice video!! I cook too, would love it if you tell me what you think of my recipes",
    author="Tony",
    ip="203.0.113.8",
)
UNRELATED = CommentRecord(text="The bridge at 2:10 gives me chills every single time.")


def test_learn_flips_near_identical_comment_only_on_that_site(filt: SpamFilter) -> None:
    site, other = SiteState(), SiteState()
    before = filt.check(NEAR, state=site)
    assert before.klass in ("ham", "unsure")
    unrelated_before = filt.check(UNRELATED, state=site).score

    filt.learn(BORDER, is_spam=True, state=site)
    once = filt.check(NEAR, state=site)
    assert once.score > before.score  # one label nudges at once
    for _ in range(2):
        filt.learn(BORDER, is_spam=True, state=site)
    after = filt.check(NEAR, state=site)
    assert after.klass in ("spam", "discard")
    assert any("marked spam on this site" in r.text for r in after.reasons)
    # Other sites and unrelated comments keep the prior.
    assert filt.check(NEAR, state=other).to_dict() == before.to_dict()
    assert filt.check(UNRELATED, state=site).score == pytest.approx(unrelated_before, abs=0.05)


def test_ham_labels_rescue_a_false_positive(filt: SpamFilter) -> None:
    text = "FREE tickets for the first 10 readers! Details on our page www.citylibrary.example"
    rec = CommentRecord(text=text, website="https://www.citylibrary.example")
    site = SiteState()
    before = filt.check(rec, state=site).score
    for _ in range(3):
        filt.learn(rec, is_spam=False, state=site)
    after = filt.check(rec, state=site)
    assert after.score < before
    assert after.klass == "ham"


def test_reputation_reason(filt: SpamFilter) -> None:
    site = SiteState()
    for i in range(14):
        spam = CommentRecord(text=f"best deals number {i} here", website="http://deals.example/x")
        filt.learn(spam, is_spam=True, state=site)
    v = filt.check(CommentRecord(text="hello there", website="https://deals.example"), state=site)
    assert any(
        r.text == "website domain deals.example marked spam 14 times on this site"
        for r in v.reasons
    )


def events() -> list[tuple[CommentRecord, bool]]:
    out = []
    for i in range(60):
        out.append(
            (
                CommentRecord(
                    text=f"cheap watches {i} at http://w{i % 7}.example", ip=f"198.51.100.{i % 9}"
                ),
                True,
            )
        )
        out.append(
            (
                CommentRecord(text=f"great point number {i}, thanks", email=f"u{i}@example.org"),
                False,
            )
        )
    return out


def test_replay_is_deterministic(filt: SpamFilter) -> None:
    a, b = SiteState(), SiteState()
    for rec, y in events():
        filt.learn(rec, is_spam=y, state=a)
    for rec, y in events():
        filt.learn(rec, is_spam=y, state=b)
    assert a.to_bytes() == b.to_bytes()
    # Replaying on top of a restored snapshot gives the same bytes as replaying it all.
    half = SiteState()
    evs = events()
    for rec, y in evs[:50]:
        filt.learn(rec, is_spam=y, state=half)
    restored = SiteState.from_bytes(half.to_bytes())
    for rec, y in evs[50:]:
        filt.learn(rec, is_spam=y, state=restored)
    assert restored.to_bytes() == a.to_bytes()


def test_serialisation_round_trip(filt: SpamFilter) -> None:
    st = SiteState()
    for rec, y in events()[:40]:
        filt.learn(rec, is_spam=y, state=st)
    data = st.to_bytes()
    assert isinstance(data, bytes) and data[:4] == b"PSST"
    assert len(data) < 200_000
    back = SiteState.from_bytes(data)
    assert back.to_bytes() == data
    probe = CommentRecord(text="cheap watches at http://w3.example", ip="198.51.100.3")
    assert filt.check(probe, state=back).to_dict() == filt.check(probe, state=st).to_dict()
    assert SiteState.from_bytes(SiteState().to_bytes()).seq == 0


@pytest.mark.parametrize(
    "data", [b"", b"PSST", b"PSST\x09xxxx", b"PSST\x01not zlib", b"\x80\x04pickle", "str"]
)
def test_from_bytes_rejects_garbage(data: object) -> None:
    with pytest.raises(ValueError):
        SiteState.from_bytes(data)  # type: ignore[arg-type]


def test_learn_is_cheap(filt: SpamFilter) -> None:
    import time

    st = SiteState()
    evs = events()
    t0 = time.perf_counter()
    for rec, y in evs:
        filt.learn(rec, is_spam=y, state=st)
    per_event = (time.perf_counter() - t0) / len(evs)
    assert per_event < 0.005


def test_concurrent_learn_and_check(filt: SpamFilter) -> None:
    st = SiteState()
    errors: list[BaseException] = []
    evs = events()

    def worker(part: list[tuple[CommentRecord, bool]]) -> None:
        try:
            for rec, y in part:
                filt.learn(rec, is_spam=y, state=st)
                filt.check(rec, state=st)
                st.to_bytes()
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(evs[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert st.seq == len(evs)
    assert st.n_spam == sum(1 for _, y in evs if y)
    SiteState.from_bytes(st.to_bytes())
