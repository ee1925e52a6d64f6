"""Named features that carry over to sites and genres the training data never showed."""

from __future__ import annotations

import numpy as np
import pytest

from palabre.spam.features import DENSE_NAMES, extract

ASK = DENSE_NAMES.index("audience_ask")
PROMO = DENSE_NAMES.index("self_promotion")


@pytest.mark.parametrize(
    "text",
    [
        "sub me plz, I sub back",
        "Follow 4 Follow, Like 4 Like",
        "help me reach 1000 subscribers!",
        "Suscríbete a mi canal",
        "Inscreva-se no meu canal",
        "Abonnez-vous à ma chaîne",
        "подпишитесь на мой канал",
        "チャンネル登録お願いします",
    ],
)
def test_asks_for_subscribers_in_several_languages(text: str) -> None:
    assert extract(text).dense[ASK] > 0


@pytest.mark.parametrize(
    "text",
    [
        "He gets more views but has less subscribers lol",
        "I subscribed to the newsletter years ago",
        "please don't stop making music like this",
    ],
)
def test_talking_about_subscribers_is_not_asking(text: str) -> None:
    assert extract(text).dense[ASK] == 0


@pytest.mark.parametrize(
    "text", ["I make Minecraft videos", "check me out, I rap", "visit my blog", "mira mi canal"]
)
def test_self_promotion(text: str) -> None:
    assert extract(text).dense[PROMO] == 1.0


def test_short_numbers_share_one_shape_long_ones_keep_theirs() -> None:
    a, b = extract("still watching in 2015"), extract("still watching in 1999")
    assert np.array_equal(a.idx, b.idx)
    call = extract("still watching in 09061701461")
    assert not np.array_equal(a.idx, call.idx)
