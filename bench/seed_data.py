"""Deterministic benchmark data: threads of Markdown comments, the same for every engine.

Everything here is generated from word lists written for this file (no copied prose), with a
seeded ``random.Random``, so two runs, and the two engines of one run, see identical data.

A dataset is a list of ``SeedThread``; each comment names its parent by its index in the
thread's list (parents always come before their replies), which both Palabre's bulk loader
and Isso's HTTP API can replay.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST = _words(
    "Ana Bruno Chloé Dmitri Elif Farid Grace Hugo Inès Jonas Keiko Luca Maya Nils Olga Pavel "
    "Quentin Rosa Sami Tanvi Ugo Vera Wen Xavier Yara Zoltan Amara Björn Carmen Dario Emeka "
    "Fatima Gustav Hana Ivo Jamal Kasia Leon Mirela Noor Omar Petra Rafael Sofia Tomás"
)
_LAST = _words(
    "Almeida Berg Castro Duval Eriksen Fournier García Haddad Ivanova Jensen Kovač Laurent "
    "Moreau Nakamura Okafor Petrov Quist Rossi Schmidt Tanaka Urban Varga Weber Yilmaz Zhou"
)
_HANDLES = _words("owl_reader nightshift quietfox tidewater paperplane hillwalker 404brain")
_MAIL_DOMAINS = ("example.org", "example.net", "mail.example.com", "post.example.de")
_SITE_DOMAINS = ("example.org", "blog.example.net", "notes.example.com")

_TOPICS = (
    "the new tram line",
    "the city budget",
    "remote work",
    "the heat pump subsidy",
    "bike lanes downtown",
    "the library opening hours",
    "the school reform",
    "the river cleanup",
    "local elections",
    "the night train",
    "open data portals",
    "rent controls",
    "the recycling rules",
    "the stadium project",
    "urban gardens",
    "the museum renovation",
    "the broadband rollout",
    "the winter festival",
    "the bakery strike",
    "the ferry timetable",
)
_OPENERS = (
    "I read this twice and",
    "Honestly,",
    "Good piece, but",
    "As someone who lives nearby,",
    "Thanks for writing this:",
    "Not convinced.",
    "Interesting angle.",
    "Small correction:",
    "This matches what I saw last week:",
    "Maybe I missed it, but",
    "Fair points overall;",
    "Speaking from experience,",
    "Quick question:",
    "I have to disagree here.",
)
_CLAIMS = (
    "{topic} deserves more attention than it gets",
    "the numbers on {topic} look different from what the council published",
    "nobody asked the people who actually use {topic}",
    "{topic} was promised three years ago and we are still waiting",
    "the article gets {topic} mostly right",
    "the cost of {topic} is only half of the story",
    "{topic} works well in other towns of this size",
    "the timeline for {topic} seems optimistic to me",
    "the debate about {topic} keeps going in circles",
    "{topic} could be tested on a smaller scale first",
)
_FOLLOWUPS = (
    "Does anyone know when the next public meeting is?",
    "The comparison with last year would help.",
    "I would love to see a follow-up in a few months.",
    "My neighbours feel the same way.",
    "It is worth reading the original report before judging.",
    "Let's see how it plays out.",
    "The map in the second section is really useful.",
    "Please keep covering this.",
    "That said, the interview was fair to both sides.",
    "Either way, thanks for the careful reporting.",
)
_LIST_ITEMS = (
    "fewer delays",
    "clear costs",
    "a public timeline",
    "better signage",
    "more consultation",
    "an independent review",
    "night service",
    "safer crossings",
    "cheaper tickets",
)
_TITLE_WORDS = (
    "What",
    "the",
    "new",
    "plan",
    "means",
    "for",
    "commuters",
    "Why",
    "council",
    "changed",
    "its",
    "mind",
    "on",
    "housing",
    "A",
    "week",
    "with",
    "river",
    "volunteers",
    "Five",
    "questions",
    "about",
    "budget",
    "vote",
    "How",
    "town",
    "is",
    "preparing",
    "winter",
)


@dataclass(slots=True)
class SeedComment:
    author: str
    email: str | None
    website: str | None
    text: str
    created: datetime
    parent: int | None = None  # index of the parent in the thread's comment list
    depth: int = 0
    votes: int = 0


@dataclass(slots=True)
class SeedThread:
    uri: str
    title: str
    comments: list[SeedComment] = field(default_factory=list)


def _sentence(rng: random.Random, topic: str) -> str:
    claim = rng.choice(_CLAIMS).format(topic=topic)
    return f"{rng.choice(_OPENERS)} {claim}."


def comment_text(rng: random.Random) -> str:
    """One comment in realistic Markdown: paragraphs, emphasis, a link, a list or a quote."""
    topic = rng.choice(_TOPICS)
    parts: list[str] = []
    first = _sentence(rng, topic)
    roll = rng.random()
    if roll < 0.2:
        first = first.replace(topic, f"**{topic}**", 1)
    elif roll < 0.3:
        first = first.replace(topic, f"*{topic}*", 1)
    parts.append(first + " " + rng.choice(_FOLLOWUPS))
    roll = rng.random()
    if roll < 0.15:
        items = rng.sample(_LIST_ITEMS, rng.randint(2, 4))
        parts.append("What I would like to see:\n\n" + "\n".join(f"- {item}" for item in items))
    elif roll < 0.25:
        parts.append("> " + _sentence(rng, rng.choice(_TOPICS)))
    elif roll < 0.35:
        domain = rng.choice(_SITE_DOMAINS)
        note = f"https://{domain}/notes/{rng.randint(1, 999)}"
        parts.append(f"There is more background [here]({note}).")
    elif roll < 0.40:
        section = f"{rng.randint(2, 14)}.{rng.randint(1, 9)}"
        parts.append(f"The relevant line in the report is `section {section}`.")
    if rng.random() < 0.5:
        parts.append(" ".join(rng.choice(_FOLLOWUPS) for _ in range(rng.randint(1, 3))))
    return "\n\n".join(parts)


def author(rng: random.Random) -> tuple[str, str | None, str | None]:
    if rng.random() < 0.15:
        name = f"{rng.choice(_HANDLES)}{rng.randint(1, 99)}"
    else:
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    slug = name.lower().replace(" ", ".")
    email = f"{slug}@{rng.choice(_MAIL_DOMAINS)}" if rng.random() < 0.7 else None
    website = None
    if rng.random() < 0.2:
        website = f"https://{slug.replace('.', '')}.{rng.choice(_SITE_DOMAINS)}"
    return name, email, website


def title(rng: random.Random) -> str:
    words = rng.sample(_TITLE_WORDS, rng.randint(4, 8))
    return " ".join(words).capitalize()


def _thread(
    rng: random.Random, uri: str, top: int, replies: int, max_depth: int, start: datetime
) -> SeedThread:
    """``top`` top-level comments and ``replies`` replies spread over depths 1..max_depth."""
    thread = SeedThread(uri=uri, title=title(rng))
    when = start
    order = ["top"] * top + ["reply"] * replies
    # The first comment is top level; the rest interleave, as a live discussion does.
    rest = order[1:]
    rng.shuffle(rest)
    order = order[:1] + rest
    for kind in order:
        when += timedelta(seconds=rng.randint(20, 900))
        name, email, website = author(rng)
        seed = SeedComment(name, email, website, comment_text(rng), when, votes=rng.randint(0, 12))
        if kind == "reply" and thread.comments:
            candidates = [i for i, c in enumerate(thread.comments) if c.depth < max_depth]
            # Prefer recent comments and shallow ones, but reach every depth.
            parent = rng.choice(candidates[-40:])
            seed.parent = parent
            seed.depth = thread.comments[parent].depth + 1
        thread.comments.append(seed)
    return thread


def compare_dataset(seed: int = 6, threads: int = 200) -> list[SeedThread]:
    """The Isso comparison data: one hot thread (200 top level + 300 replies at depths 1-4)
    and ``threads - 1`` others of 10-30 comments."""
    rng = random.Random(seed)
    out = [_thread(rng, "/articles/hot-story/", 200, 300, 4, EPOCH)]
    for i in range(1, threads):
        total = rng.randint(10, 30)
        replies = rng.randint(0, total // 3)
        start = EPOCH + timedelta(hours=i)
        out.append(_thread(rng, f"/articles/story-{i:04d}/", total - replies, replies, 3, start))
    return out


def text_pool(size: int = 2000, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [comment_text(rng) for _ in range(size)]


def scale_threads(
    threads: int, comments: int, seed: int = 11, prefix: str = "/scale/", pool_size: int = 2000
) -> Iterator[SeedThread]:
    """``comments`` comments spread over ``threads`` threads (sizes vary 1..2x the mean;
    a third of the comments are replies), generated lazily for bulk seeding at any size."""
    rng = random.Random(seed)
    pool = text_pool(pool_size, seed)
    remaining = comments
    for i in range(threads):
        left = threads - i
        mean = remaining / left
        size = round(mean * rng.uniform(0.5, 1.5))
        size = remaining if left == 1 else max(1, min(remaining - (left - 1), size))
        remaining -= size
        thread = SeedThread(uri=f"{prefix}{i:06d}/", title=f"Scale article {i}")
        when = EPOCH + timedelta(minutes=i)
        for j in range(size):
            when += timedelta(seconds=rng.randint(5, 600))
            name, email, website = author(rng)
            c = SeedComment(name, email, website, rng.choice(pool), when, votes=rng.randint(0, 5))
            if j and rng.random() < 0.33:
                parent = rng.randrange(max(0, j - 10), j)
                if thread.comments[parent].depth < 8:
                    c.parent = parent
                    c.depth = thread.comments[parent].depth + 1
            thread.comments.append(c)
        yield thread


def count(dataset: list[SeedThread]) -> int:
    return sum(len(t.comments) for t in dataset)
