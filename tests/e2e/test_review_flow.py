"""The review workflow end to end in Chromium: an owner submits a version with a file, a
reviewer works through the queue with the keyboard and requests changes, the owner reads
the comment, uploads a fix and resubmits, the reviewer approves, and the anonymous public
finds the version in the catalog and in search."""

import re

import pytest
from playwright.sync_api import expect

from models_app.models import VersionStatus
from reviews_app import services
from reviews_app.models import Review
from tests.factories import UserFactory, make_model, make_version
from tests.reviews.web.conftest import GOOD_CARD, SIGNATURE

pytestmark = pytest.mark.django_db(transaction=True)

COMMENT = "Please add the label map (labels.txt) so callers can decode the predictions."


@pytest.fixture
def cast(db, owner, reviewer):
    model = make_model(
        owner, "wine-quality", description=GOOD_CARD, summary="Rates Portuguese wines from their chemistry"
    )
    make_version(
        model,
        "1.0.0",
        status=VersionStatus.PUBLISHED,
        files={"model.onnx": b"v1"},
        params={"depth": 4},
        signature=SIGNATURE,
    )
    # The factory published 1.0.0 through a review; olivia read its notification long ago.
    services.notifications_mark_read(user=owner)
    make_version(model, "1.1.0", files={"model.onnx": b"v1.1 weights"}, params={"depth": 6}, signature=SIGNATURE,
                 changelog="Deeper trees: **+2%** accuracy.")  # fmt: skip
    # Another submission, older, so the queue has more than one row to show.
    other = make_model(UserFactory(username="nadia"), "penguin-species", description="")
    services.version_submit(
        version=make_version(other, "0.1.0", files={"w.bin": b"w"}), actor=other.owner, note="First try"
    )
    return owner, reviewer, model


def _switch_user(page, login, username: str) -> None:
    page.context.clear_cookies()
    login(username)


def test_submit_request_changes_resubmit_approve_publish(page, live_server, problems, screenshot, login, cast):
    base = live_server.url
    version_url = f"{base}/models/olivia/wine-quality/versions/1.1.0/"

    # The owner submits 1.1.0 with a note.
    login("olivia")
    page.goto(version_url)
    page.fill("#id_note", "Deeper trees; same inputs.")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".message-success")).to_contain_text("Submitted 1.1.0 for review.")
    expect(page.locator("h1 .badge")).to_have_text("In review")
    expect(page.locator("#files")).to_contain_text("Files are frozen while the version is in review.")
    expect(page.locator("#upload-form")).to_have_count(0)

    # The reviewer sees the count in the navigation bar and opens the queue, oldest first.
    _switch_user(page, login, "rita")
    nav_reviews = page.locator(".main-nav").get_by_role("link", name=re.compile("Reviews"))
    expect(nav_reviews.locator(".nav-count")).to_have_text("2")
    nav_reviews.click()
    expect(page).to_have_url(f"{base}/reviews/")
    rows = page.locator(".queue-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("nadia/penguin-species")
    expect(rows.nth(0).locator(".badge-check-fail").first).to_be_visible()
    expect(rows.nth(1)).to_contain_text("olivia/wine-quality")
    expect(rows.nth(1)).to_contain_text("v1.1.0")
    screenshot("review-queue")

    # The review page: card, diff, files, checks and the form, with the comment focused.
    rows.nth(1).get_by_role("link", name="Review").click()
    expect(page).to_have_url(re.compile(r"/reviews/\d+/$"))
    expect(page.locator(".prose h3").first).to_have_text("Iris classifier")
    expect(page.locator("#diff")).to_contain_text("v1.0.0")
    expect(page.locator("#diff .diff-changed").filter(has_text="depth")).to_have_count(1)
    expect(page.locator("#diff .diff-changed").filter(has_text="model.onnx")).to_have_count(1)
    expect(page.locator("#checks .check")).to_have_count(
        len(Review.objects.filter(version__version="1.1.0").get().checks)
    )
    # The page opens at its top, where the reviewer starts reading: nothing steals the focus.
    expect(page.locator("#id_comment")).not_to_be_focused()
    assert page.evaluate("window.scrollY") == 0
    screenshot("review-page")

    # Keyboard only: Alt+C picks "Request changes", type the comment, Ctrl+Enter submits.
    page.keyboard.press("Alt+KeyC")
    expect(page.locator("input[name=decision][value=request_changes]")).to_be_checked()
    expect(page.locator("#decision-submit")).to_have_text("Request changes")
    expect(page.locator("#id_comment")).to_be_focused()
    page.keyboard.type(COMMENT)
    page.keyboard.press("Control+Enter")
    # On to the next submission in the queue (the penguin one; rita may decide on it).
    expect(page.locator(".message-success")).to_contain_text("Request changes: olivia/wine-quality 1.1.0.")
    expect(page.locator("h1")).to_contain_text("nadia/penguin-species")

    # The owner reads the comment on the version page, uploads the fix and resubmits.
    _switch_user(page, login, "olivia")
    expect(page.locator(".nav-bell .nav-count-unread")).to_have_text("1 unread")
    page.goto(version_url)
    expect(page.locator("#latest-decision")).to_contain_text(COMMENT)
    expect(page.locator("#latest-decision")).to_contain_text("rita")
    page.set_input_files(
        "#upload-form input[type=file]",
        files=[{"name": "labels.txt", "mimeType": "text/plain", "buffer": b"bad\nok\ngood\n"}],
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#file-list table.files-table tbody tr")).to_have_count(2)
    page.reload()
    page.fill("#id_note", "Added labels.txt as asked.")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("h1 .badge")).to_have_text("In review")
    expect(page.locator("#history")).to_contain_text("review.request_changes")

    # The reviewer approves from the queue, with the keyboard again.
    _switch_user(page, login, "rita")
    page.goto(base + "/reviews/")
    page.locator(".queue-table tbody tr").filter(has_text="olivia/wine-quality").get_by_role(
        "link", name="Review"
    ).click()
    expect(page.locator("#history")).to_contain_text(COMMENT)  # the earlier decision is on the page
    expect(page.locator("#diff .diff-added").filter(has_text="labels.txt")).to_have_count(1)
    page.keyboard.press("Alt+KeyA")
    expect(page.locator("input[name=decision][value=approve]")).to_be_checked()
    page.keyboard.press("Control+Enter")
    expect(page.locator(".message-success")).to_contain_text("Approve: olivia/wine-quality 1.1.0.")

    # The anonymous public finds 1.1.0 in search and on the model page.
    page.context.clear_cookies()
    page.goto(base + "/models/?q=wine")
    result = page.locator(".results .model-row").filter(has_text="olivia/wine-quality")
    expect(result).to_have_count(1)
    expect(result.locator(".version-pill")).to_have_text("v1.1.0")
    result.locator("a.model-name").click()
    expect(page).to_have_url(f"{base}/models/olivia/wine-quality/")
    latest = page.locator("section.card").filter(has=page.get_by_role("heading", name="Latest release"))
    expect(latest.locator(".version-pill")).to_have_text("v1.1.0")
    expect(latest).to_contain_text("labels.txt")
    page.goto(version_url)
    expect(page.locator("h1 .badge")).to_have_text("Published")
    expect(page.locator("body")).not_to_contain_text(COMMENT)  # review comments stay between owner and reviewers
