"""A new user's first visit, end to end in Chromium: sign up, register a model, create
version 1.0.0, upload files through the JavaScript uploader (with its progress bars), find
the model by search and download the file again."""

import hashlib
import random
import re

import pytest
from django.template.defaultfilters import filesizeformat
from playwright.sync_api import expect

from models_app.models import ModelFile, RegisteredModel

pytestmark = pytest.mark.django_db(transaction=True)

USERNAME = "nadia"
PASSWORD = "a-long-and-unusual-passphrase-42"
MODEL = "penguin-species"

# Records, in the page, each <progress> the uploader adds and every value it takes, so the
# test can tell that a bar was shown even when a local upload finishes in milliseconds.
WATCH_PROGRESS = """
() => {
  window.__progress = [];
  const list = document.getElementById("upload-progress");
  new MutationObserver(() => {
    list.querySelectorAll("progress").forEach((bar) => {
      const label = bar.getAttribute("aria-label");
      const seen = window.__progress.find((entry) => entry.label === label);
      const box = bar.getBoundingClientRect();
      if (!seen) window.__progress.push({label, values: [bar.value], visible: box.width > 0 && box.height > 0});
      else if (seen.values[seen.values.length - 1] !== bar.value) seen.values.push(bar.value);
    });
  }).observe(list, {childList: true, subtree: true, characterData: true, attributes: true});
}
"""


def weights_bytes(size: int = 300 * 1024) -> bytes:
    return random.Random(20240601).randbytes(size)


def test_new_user_signs_up_uploads_finds_and_downloads(page, live_server, problems, screenshot):
    base = live_server.url
    weights = weights_bytes()
    config = b'{"classes": ["Adelie", "Chinstrap", "Gentoo"], "features": 4}\n'

    # Sign up from the home page's header link.
    page.goto(base + "/")
    page.get_by_role("link", name="Sign up", exact=True).click()
    expect(page).to_have_url(f"{base}/accounts/signup/")
    page.fill("#id_username", USERNAME)
    page.fill("#id_email", f"{USERNAME}@example.org")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    # Signing up logs in and leads straight to the new-model form.
    expect(page).to_have_url(f"{base}/models/new/")
    expect(page.locator(".message-success")).to_contain_text(f"Welcome, {USERNAME}")
    expect(page.locator("details.menu summary")).to_have_text(USERNAME)
    screenshot("create-model-form")

    page.fill("#id_name", MODEL)
    page.fill("#id_summary", "Tells Adelie, Chinstrap and Gentoo penguins apart from four measurements")
    page.select_option("#id_task", "tabular-classification")
    page.select_option("#id_framework", "scikit-learn")
    page.select_option("#id_license", "Apache-2.0")
    page.fill("#id_tags", "penguins, tabular biology")
    page.check("input[name=visibility][value=public]")
    page.fill("#id_description", "# Penguin species\n\nA random forest trained on the Palmer penguins data.")
    page.get_by_role("button", name="Create model").click()

    expect(page).to_have_url(f"{base}/models/{USERNAME}/{MODEL}/")
    expect(page.locator("h1.model-title")).to_contain_text(f"{USERNAME}/{MODEL}")
    expect(page.locator(".prose h3")).to_have_text("Penguin species")  # the model card's Markdown is rendered

    # Version 1.0.0.
    page.locator(".model-head").get_by_role("link", name="New version").click()
    expect(page).to_have_url(f"{base}/models/{USERNAME}/{MODEL}/versions/new/")
    page.fill("#id_version", "1.0.0")
    page.fill("#id_changelog", "First release: **93%** accuracy on the held-out split.")
    page.fill("#id_metrics-0-key", "accuracy")
    page.fill("#id_metrics-0-value", "0.93")
    page.get_by_role("button", name="Create draft").click()
    version_url = f"{base}/models/{USERNAME}/{MODEL}/versions/1.0.0/"
    expect(page).to_have_url(version_url)
    expect(page.locator("#file-list")).to_contain_text("No files.")

    # Upload two files through upload.js: one request and one <progress> bar per file.
    page.evaluate(WATCH_PROGRESS)
    page.set_input_files(
        "#upload-form input[type=file]",
        files=[
            {"name": "weights.bin", "mimeType": "application/octet-stream", "buffer": weights},
            {"name": "config.json", "mimeType": "application/json", "buffer": config},
        ],
    )
    with page.expect_response(lambda r: r.request.method == "POST" and "/api/v1/" in r.url) as first_upload:
        page.get_by_role("button", name="Upload").click()
    assert first_upload.value.status == 201, first_upload.value.text()
    # The bars stay on the page after the uploads, marked done.
    bars = page.locator("#upload-progress progress")
    expect(bars).to_have_count(2)
    expect(bars.first).to_be_visible()
    # Random bytes are no format the registry knows: the upload is stored, with a warning.
    expect(page.locator("#upload-progress li.upload-ok")).to_have_count(1)
    expect(page.locator("#upload-progress li.upload-warning")).to_have_count(1)
    expect(page.locator("#upload-progress .upload-status")).to_have_text(
        ["done, but: The bytes of weights.bin match no known model or data format; the registry cannot scan or run it.",
         "done"]
    )  # fmt: skip
    seen = page.evaluate("window.__progress")
    assert [entry["label"] for entry in seen] == ["Uploading weights.bin", "Uploading config.json"]
    assert all(entry["visible"] for entry in seen), seen
    assert all(entry["values"][-1] == 100 for entry in seen), seen

    # Then the file table is swapped in from the server: path, size and SHA-256 of each file.
    rows = page.locator("#file-list table.files-table tbody tr")
    expect(rows).to_have_count(2)
    for name, content in (("weights.bin", weights), ("config.json", config)):
        row = rows.filter(has=page.get_by_role("link", name=name, exact=True))
        expect(row).to_have_count(1)
        expect(row.locator("td.num").first).to_have_text(filesizeformat(len(content)).replace("\xa0", " "))
        expect(row.locator("code.sha")).to_have_text(hashlib.sha256(content).hexdigest())
    stored = ModelFile.objects.get(version__model__name=MODEL, path="weights.bin")
    assert (stored.size, stored.sha256) == (len(weights), hashlib.sha256(weights).hexdigest())
    expect(page.locator("#upload-form button[type=submit]")).to_be_enabled()
    screenshot("version-page-draft-with-files")

    # The uploaded file downloads with the same bytes.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="weights.bin", exact=True).click()
    download = download_info.value
    assert download.suggested_filename == "weights.bin"
    with open(download.path(), "rb") as handle:
        assert handle.read() == weights

    page.locator(".breadcrumbs").get_by_role("link", name="versions").click()
    expect(page).to_have_url(f"{base}/models/{USERNAME}/{MODEL}/versions/")
    expect(page.locator(".timeline-item")).to_have_count(1)
    expect(page.locator(".timeline-item")).to_contain_text("v1.0.0")
    expect(page.locator(".timeline-item .prose strong")).to_have_text("93%")
    screenshot("version-history")

    # Find it by search: the header search box leads to the catalog with ?q=.
    page.goto(base + "/")
    header_search = page.locator("header .header-search input[name=q]")
    header_search.fill("penguin")
    header_search.press("Enter")
    expect(page).to_have_url(re.compile(r"/models/\?q=penguin$"))
    expect(page.locator("#q")).to_have_value("penguin")
    results = page.locator(".results .model-row")
    expect(results).to_have_count(1)
    expect(results.first.locator("a.model-name")).to_have_text(f"{USERNAME}/{MODEL}")
    screenshot("catalog-search")
    # A search for something else does not find it.
    page.fill("#q", "zebra-detector")
    page.locator(".search-form").get_by_role("button", name="Search").click()
    expect(page.locator(".results .empty")).to_contain_text("No models match")

    page.goto(f"{base}/models/?q=penguin")
    page.locator(".results a.model-name").first.click()
    expect(page).to_have_url(f"{base}/models/{USERNAME}/{MODEL}/")
    versions_table = (
        page.locator("section.card").filter(has=page.get_by_role("heading", name="Versions")).locator("tbody tr")
    )
    expect(versions_table).to_have_count(1)
    expect(versions_table.first).to_contain_text("Draft")
    screenshot("model-page-owner")

    # The tokens page: create one and see its secret once.
    page.locator("details.menu summary").click()
    page.get_by_role("link", name="My tokens").click()
    expect(page).to_have_url(f"{base}/settings/tokens/")
    page.fill("#id_name", "laptop CLI")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).not_to_be_empty()
    expect(page.locator("table tbody tr")).to_have_count(1)
    screenshot("tokens")

    # Log out (a POST form in the user menu).
    page.locator("details.menu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert RegisteredModel.objects.filter(owner__username=USERNAME, name=MODEL).exists()
