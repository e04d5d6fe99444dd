"""The owner points an alias at a release from the model page; a visitor reads its history."""

import pytest
from playwright.sync_api import expect

from models_app.models import VersionStatus
from tests.factories import make_model, make_version

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_owner_sets_and_moves_an_alias_and_its_history_shows(page, live_server, problems, screenshot, login, owner):
    model = make_model(owner, "iris-classifier")
    make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"model.onnx": b"one"})
    make_version(model, "1.1.0", status=VersionStatus.PUBLISHED, files={"model.onnx": b"two"})
    login("olivia")
    base = f"{live_server.url}/models/olivia/iris-classifier/"
    page.goto(base)
    section = page.locator("#aliases")
    section.get_by_label("Name").fill("production")
    section.get_by_label("Version").select_option("1.0.0")
    section.get_by_role("button", name="Point it there").click()
    expect(page.locator(".alias-row[data-alias=production] .version-pill")).to_have_text("v1.0.0")
    page.locator("#aliases summary").click()
    section.get_by_label("Name").fill("production")
    section.get_by_label("Version").select_option("1.1.0")
    section.get_by_role("button", name="Point it there").click()
    expect(page.locator(".alias-row[data-alias=production] .version-pill")).to_have_text("v1.1.0")
    screenshot("model-aliases")

    page.goto(base + "versions/1.1.0/")
    expect(page.locator("h1 .badge-alias")).to_have_text("@production")
    page.locator("h1 .badge-alias").click()
    expect(page.locator("[data-change]")).to_have_count(2)
    page.get_by_label("On").fill("2000-01-01")
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("[data-at-answer]")).to_contain_text("pointed nowhere")
    screenshot("alias-history")
