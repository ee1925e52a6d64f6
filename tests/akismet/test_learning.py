"""Each key's site learns from its own submissions, across processes, and only its own
unless the operator turns sharing on."""

from __future__ import annotations

from collections.abc import Iterator

import akismet
import pytest

from tests.akismet.conftest import new_key, sync_client
from tests.conftest import LiveServer, ServerFactory

HAM = akismet.CheckResponse.HAM

# A borderline comment: the shipped filter lets it through (ham or unsure), but one
# submit-spam of it is enough to push a near-identical copy over the spam threshold.
REPORTED = {
    "comment_content": "Great post, I learned a lot. More tips like these at "
    "http://mikes-home-tips.example/ when you get a chance.",
    "comment_author": "Mike Porter",
    "comment_author_email": "mike@mikes-home-tips.example",
    "comment_author_url": "http://mikes-home-tips.example/",
    "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    "user_ip": "192.0.2.44",
}
NEAR_COPY = REPORTED | {
    "comment_content": REPORTED["comment_content"].replace("Great post", "Great article"),
    "comment_author": "Mike Porter J.",
}


def check(client: akismet.SyncClient) -> akismet.CheckResponse:
    return client.comment_check(**NEAR_COPY)


@pytest.fixture
def second_process(server: LiveServer) -> Iterator[LiveServer]:
    """Another app instance on the same database, as a second `palabre serve` would be."""
    other = LiveServer(server.settings).start()
    yield other
    other.stop()


def test_submit_spam_flips_only_that_keys_verdicts(server: LiveServer, second_process):
    key, other_key = new_key(server), new_key(server)
    with (
        sync_client(server, key) as client,
        sync_client(server, other_key) as other,
        sync_client(second_process, key) as same_key_elsewhere,
    ):
        assert check(client) == HAM
        assert check(other) == HAM
        client.submit_spam(**REPORTED, is_test=True)  # a test submission never trains
        assert check(client) == HAM
        assert client.submit_spam(**REPORTED) is True
        assert check(client) != HAM  # spam or discard
        assert check(same_key_elsewhere) != HAM  # learned state lives in the database
        assert check(other) == HAM  # another key's site is untouched
        # The site changes its mind: submit-ham brings the verdict back.
        for _ in range(2):
            client.submit_ham(**REPORTED)
        assert check(client) == HAM


def test_shared_learning_when_the_operator_turns_it_on(server_factory: ServerFactory):
    shared = server_factory(spam={"share_learning": True})
    key, other_key = new_key(shared), new_key(shared)
    with sync_client(shared, key) as client, sync_client(shared, other_key) as other:
        assert check(other) == HAM
        client.submit_spam(**REPORTED)
        assert check(other) != HAM  # spam or discard
