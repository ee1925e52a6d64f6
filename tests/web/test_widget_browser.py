"""The widget in a real browser: read, post, reply, edit, delete, vote, errors, keyboard,
held comments and their approval in the admin, French."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.web.conftest import ADMIN_PASSWORD, ADMIN_USER, BrowserServer, Watched, wait_for_thread

pytestmark = pytest.mark.browser


def fresh_path() -> str:
    return f"/demo/{uuid.uuid4().hex[:10]}"


def open_article(spy: Watched, server: BrowserServer, path: str, query: str = "") -> Any:
    page = spy.page
    page.goto(server.url + path + query)
    wait_for_thread(page)
    return page


def fill_main_form(page: Any, **values: str) -> None:
    form = page.locator("form.pal-form").last
    for name, value in values.items():
        form.locator(f"[name={name}]").fill(value)


def test_read_post_reply_edit_delete_vote(watched: Watched, live: BrowserServer):
    path = fresh_path()
    page = open_article(watched, live, path)
    crumbs = " ".join((page.locator("nav.crumbs").text_content() or "").split())
    assert crumbs.startswith("Home » Technology » Northbridge library")
    assert page.locator(".pal-count").inner_text() == "0 comments"
    assert page.get_by_text("This site uses Palabre to reduce spam.").is_visible()
    assert (
        page.get_by_role("link", name="Learn how your comment data is processed.").get_attribute(
            "href"
        )
        == live.url + "/privacy"
    )
    # At most three requests for the widget: its script, its stylesheet, the thread.
    widget = [u for u in watched.requests if u.startswith(live.url) and "/demo/" not in u]
    assert len(widget) <= 3, widget
    assert {u.split("?")[0].rsplit("/", 1)[-1] for u in widget} == {
        "embed.js", "embed.css", "comments"
    }  # fmt: skip

    # Post.
    form = page.locator("form.pal-form").first
    form.get_by_label("Name").fill("Ada Lovelace")
    form.get_by_label("E-mail").fill("ada@example.org")
    form.get_by_label("Website").fill("https://ada.example.org")
    form.get_by_label("Comment").fill("A **bold** claim about the catalogue.")
    form.get_by_role("button", name="Post comment").click()
    first = page.locator(".pal-list > li.pal-c").first
    first.locator("strong", has_text="bold").wait_for()
    assert first.locator("a.pal-who").inner_text() == "Ada Lovelace"
    assert first.locator("a.pal-who").get_attribute("href") == "https://ada.example.org/"
    assert page.locator(".pal-count").inner_text() == "1 comment"
    assert first.locator("svg.pal-av rect").count() > 1  # the identicon, drawn locally
    assert "ada@example.org" not in page.content()

    # Reply.
    first.get_by_role("button", name="Reply").click()
    reply_form = first.locator("form.pal-form")
    reply_form.get_by_label("Name").fill("Charles")
    reply_form.get_by_label("Comment").fill("I disagree, politely.")
    reply_form.get_by_role("button", name="Post comment").click()
    reply = first.locator(".pal-replies > li.pal-c").first
    reply.get_by_text("I disagree, politely.").wait_for()
    assert first.locator("form.pal-form").count() == 0

    # Edit the reply (the author's browser holds the edit token).
    reply.get_by_role("button", name="Edit").click()
    editor = reply.locator("form.pal-editor textarea")
    assert editor.input_value() == "I disagree, politely."
    editor.fill("I *strongly* disagree, politely.")
    reply.get_by_role("button", name="Save").click()
    reply.locator("em", has_text="strongly").wait_for()

    # Vote on the first comment.
    first.get_by_role("button", name="Vote up").first.click()
    page.wait_for_function(
        "document.querySelector('.pal-list > li .pal-votes').textContent === '1'"
    )

    # Everything is still there after a reload, edit rights included.
    page.reload()
    wait_for_thread(page)
    reply = page.locator(".pal-replies > li.pal-c").first
    assert "strongly" in reply.inner_text()
    assert reply.get_by_role("button", name="Edit").is_visible()

    # Delete the reply: a second click confirms (no window.confirm dialog).
    delete = reply.get_by_role("button", name="Delete")
    delete.click()
    assert delete.inner_text() == "Really delete?"
    delete.click()
    page.wait_for_function("!document.querySelector('.pal-replies > li')")
    api = httpx.get(live.url + "/api/comments", params={"uri": path}).json()
    assert api["comments"][0]["replies"] == []
    assert api["comments"][0]["votes"] == 1

    # Another reader sees the comments but gets no edit or delete buttons.
    other = page.context.browser.new_page()
    other.goto(live.url + path)
    wait_for_thread(other)
    assert other.get_by_text("A bold claim").is_visible()
    assert other.get_by_role("button", name="Edit").count() == 0
    other.close()
    assert watched.errors == []


def test_field_errors_are_shown_next_to_the_field_and_announced(
    watched: Watched, live: BrowserServer
):
    page = open_article(watched, live, fresh_path())
    form = page.locator("form.pal-form").first
    form.get_by_role("button", name="Post comment").click()
    name = form.get_by_label("Name")
    assert name.get_attribute("aria-invalid") == "true"
    author_error = form.locator(".pal-f-author .pal-err")
    assert "required" in author_error.inner_text()
    assert author_error.get_attribute("aria-live") == "polite"
    assert page.evaluate("document.activeElement.name") == "author"

    # A server-side error lands next to the field the server names.
    name.fill("Mallory")
    form.get_by_label("Website").fill("ftp://files.example.org")
    form.get_by_label("Comment").fill("hello")
    form.get_by_role("button", name="Post comment").click()
    website_error = form.locator(".pal-f-website .pal-err")
    website_error.wait_for()
    assert "http(s)" in website_error.inner_text()
    assert form.get_by_label("Website").get_attribute("aria-invalid") == "true"
    assert name.get_attribute("aria-invalid") is None
    assert watched.executed() == []
    # The browser logs the 4xx answer itself; no script error came from the widget.
    assert [e for e in watched.errors if "status of 422" not in e and "400" not in e] == []


def test_keyboard_only_posting(watched: Watched, live: BrowserServer):
    path = fresh_path()
    page = open_article(watched, live, path)
    keyboard = page.keyboard
    for _ in range(80):
        keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "author":
            break
    else:
        pytest.fail("the name field cannot be reached with Tab")
    keyboard.type("Keyboard Kate")
    keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "email"
    keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "website"
    keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "text"
    keyboard.type("Typed without a mouse.")
    keyboard.press("Tab")  # the honeypot is skipped: next is the submit button
    focused = page.evaluate(
        "[document.activeElement.type, getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused[0] == "submit"
    assert focused[1] != "none", "the focused button has no visible focus ring"
    keyboard.press("Enter")
    page.get_by_text("Typed without a mouse.").wait_for()
    # Focus moved to the new comment, and the result was announced.
    assert page.evaluate("document.activeElement.classList.contains('pal-c')")
    page.wait_for_function("document.querySelector('.pal-sr').textContent.length > 0")
    assert watched.errors == []


def test_held_comment_then_approved_in_the_admin(watched: Watched, moderated: BrowserServer):
    path = fresh_path()
    page = open_article(watched, moderated, path)
    fill_main_form(page, author="Patient Pat", text="This one needs a moderator.")
    page.locator("form.pal-form").first.get_by_role("button", name="Post comment").click()
    held = page.locator("li.pal-held")
    held.get_by_text("awaiting moderation").wait_for()
    assert page.locator(".pal-count").inner_text() == "0 comments"
    page.reload()
    wait_for_thread(page)
    assert page.locator("li.pal-held").get_by_text("awaiting moderation").is_visible()

    # Nobody else sees it.
    reader = page.context.browser.new_page()
    reader.goto(moderated.url + path)
    wait_for_thread(reader)
    assert reader.get_by_text("This one needs a moderator.").count() == 0

    # The moderator approves it.
    admin = page.context.new_page()
    admin.goto(moderated.url + "/admin")
    admin.get_by_label("Username").fill(ADMIN_USER)
    admin.get_by_label("Password").fill(ADMIN_PASSWORD)
    admin.get_by_role("button", name="Sign in").click()
    item = admin.locator("article.item", has_text="This one needs a moderator.")
    item.wait_for()
    assert "pending" in item.inner_text().lower()
    assert admin.locator("#chart svg rect").count() > 0
    item.get_by_role("button", name="Approve").click()
    admin.get_by_text("1 comment(s) approved").wait_for()

    # Now every reader sees it, and the author no longer gets the waiting note.
    reader.reload()
    wait_for_thread(reader)
    assert reader.get_by_text("This one needs a moderator.").is_visible()
    page.reload()
    wait_for_thread(page)
    assert page.locator("li.pal-held").count() == 0
    assert page.get_by_text("This one needs a moderator.").count() == 1
    reader.close()
    assert watched.errors == []


def test_french_follows_the_page_language(watched: Watched, live: BrowserServer):
    page = open_article(watched, live, fresh_path(), "?lang=fr")
    assert page.locator(".pal-count").inner_text() == "0 commentaire"
    assert page.get_by_role("heading", name="Laisser un commentaire").is_visible()
    assert page.get_by_label("Courriel").is_visible()
    assert "Ce site utilise Palabre" in page.locator(".pal-privacy").inner_text()
    assert watched.errors == []


def test_dark_theme_through_css_variables(browser: Any, live: BrowserServer):
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.goto(live.url + fresh_path())
    wait_for_thread(page)
    background = page.evaluate(
        "getComputedStyle(document.querySelector('.palabre')).getPropertyValue('--pal-bg').trim()"
    )
    context.close()
    assert background == "#16191c"


def test_load_more(watched: Watched, browser_server_factory: Any):
    server = browser_server_factory(comments={"default_page_size": 3})
    path = fresh_path()
    with httpx.Client(base_url=server.url, headers={"Origin": server.url}) as client:
        for n in range(5):
            response = client.post(
                "/api/comments", json={"uri": path, "author": "Bulk", "text": f"number {n}"}
            )
            assert response.status_code == 201, response.text
    page = open_article(watched, server, path)
    assert page.locator(".pal-list > li.pal-c").count() == 3
    page.get_by_role("button", name="Load more comments").click()
    page.wait_for_function("document.querySelectorAll('.pal-list > li.pal-c').length === 5")
    assert page.get_by_role("button", name="Load more comments").is_hidden()
    assert watched.errors == []
