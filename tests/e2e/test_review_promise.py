"""The review promise in Chromium: the owner edits the summary of a published model; an
anonymous visitor still reads the approved one (page, catalog, search) while the owner sees
the edit marked as pending; the owner submits a new version, which carries the edit; a
reviewer sees the change in the review page's diff and approves; the visitor then reads the
new summary."""

import re

import pytest
from playwright.sync_api import expect

from models_app.models import VersionStatus
from reviews_app import services
from tests.factories import make_model, make_version
from tests.reviews.web.conftest import GOOD_CARD

pytestmark = pytest.mark.django_db(transaction=True)

OLD = "Rates Portuguese wines from their chemistry"
NEW = "Rates Portuguese and sparkling wines from their chemistry"


@pytest.fixture
def published(db, owner, reviewer):
    model = make_model(owner, "wine-quality", description=GOOD_CARD, summary=OLD, tags=["wine"])
    make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"model.onnx": b"v1"})
    make_version(model, "1.1.0", files={"model.onnx": b"v1.1 weights"}, changelog="Sparkling wines too.")
    services.notifications_mark_read(user=owner)
    return model


def test_an_edit_goes_public_only_with_the_approval_of_a_version_carrying_it(
    page, browser, live_server, problems, screenshot, login, published
):
    base = live_server.url
    model_url = f"{base}/models/olivia/wine-quality/"
    visitor = browser.new_page()  # another browser context: never logged in

    # The owner edits the summary of the published model.
    login("olivia")
    page.goto(model_url)
    page.locator(".model-head").get_by_role("link", name="Edit").click()
    expect(page.locator("[data-review-note]")).to_be_visible()
    page.fill("#id_summary", NEW)
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(model_url)
    expect(page.locator(".message-success")).to_contain_text("keeps the approved card")
    expect(page.locator(".model-head .lead")).to_have_text(NEW)
    expect(page.locator("[data-pending-edits]")).to_contain_text(
        "shown publicly once a version carrying them is approved"
    )
    screenshot("promise-owner-pending-edit")

    # The visitor still reads the approved summary, on the page, in the catalog and in search.
    visitor.goto(model_url)
    expect(visitor.locator(".model-head .lead")).to_have_text(OLD)
    expect(visitor.locator("[data-pending-edits]")).to_have_count(0)
    visitor.goto(base + "/models/")
    expect(visitor.locator(".model-row").filter(has_text="olivia/wine-quality")).to_contain_text(OLD)
    visitor.goto(base + "/models/?q=sparkling")
    expect(visitor.locator(".model-row")).to_have_count(0)

    # The owner submits 1.1.0, which carries the edit.
    page.goto(model_url + "versions/1.1.0/")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("h1 .badge")).to_have_text("In review")
    visitor.goto(model_url)
    expect(visitor.locator(".model-head .lead")).to_have_text(OLD)  # submitted is not approved

    # The reviewer sees the summary's change in the diff, and approves.
    page.context.clear_cookies()
    login("rita")
    page.goto(base + "/reviews/")
    page.locator(".queue-table tbody tr").filter(has_text="olivia/wine-quality").get_by_role(
        "link", name="Review"
    ).click()
    expect(page).to_have_url(re.compile(r"/reviews/\d+/$"))
    summary_change = page.locator("#diff .diff-changed").filter(has_text="summary")
    expect(summary_change.locator(".diff-old")).to_contain_text(OLD)
    expect(summary_change.locator(".diff-new")).to_contain_text(NEW)
    screenshot("promise-review-diff")
    page.locator("input[name=decision][value=approve]").check()
    page.locator("#decision-submit").click()
    expect(page.locator(".message-success")).to_contain_text("Approve: olivia/wine-quality 1.1.0.")

    # Now the visitor reads the new summary, and search finds it.
    visitor.goto(model_url)
    expect(visitor.locator(".model-head .lead")).to_have_text(NEW)
    visitor.goto(base + "/models/?q=sparkling")
    expect(visitor.locator(".model-row").filter(has_text="olivia/wine-quality")).to_contain_text(NEW)
    visitor.close()
