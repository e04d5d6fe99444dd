"""What visitors see of other people's models, the main pages on a phone, and a clean
console (no errors, no Content-Security-Policy violations) on every main page."""

import pytest
from playwright.sync_api import expect

from models_app.models import VersionStatus
from tests.factories import make_model, make_version, move_to

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def catalog(owner):
    """olivia's public model with a published 1.0.0 (and a draft 1.1.0), and her private model."""
    public = make_model(owner, "iris-classifier", summary="Classifies iris flowers from four measurements")
    published = make_version(
        public,
        "1.0.0",
        files={"model.skops": b"PK-not-really-a-zip" * 500, "config.json": b'{"classes": 3}'},
        changelog="First release.",
        reported_metrics={"accuracy": 0.97, "f1_macro": 0.965},
    )
    move_to(published, VersionStatus.PUBLISHED)
    make_version(public, "1.1.0", files={"model.skops": b"draft bytes"})
    private = make_model(owner, "secret-churn-model", visibility="private", summary="Internal churn predictor")
    make_version(private, "1.0.0", files={"model.bin": b"private bytes"}, status=VersionStatus.PUBLISHED)
    return {"public": public, "private": private}


def test_anonymous_visitor_sees_published_public_model_not_private_one(
    page, live_server, problems, screenshot, catalog
):
    base = live_server.url
    page.goto(base + "/")
    recent = page.locator(".model-list").first
    expect(recent.locator("a.model-name")).to_have_text(["olivia/iris-classifier"])
    expect(page.get_by_text("secret-churn-model")).to_have_count(0)
    screenshot("home")

    page.goto(base + "/models/")
    expect(page.locator(".results .model-row")).to_have_count(1)
    expect(page.locator(".results .model-row .version-pill")).to_have_text("v1.0.0")
    page.goto(base + "/models/?q=churn")
    expect(page.locator(".results .model-row")).to_have_count(0)

    page.goto(base + "/models/olivia/iris-classifier/")
    expect(page.locator(".model-head-side .actions")).to_have_count(0)  # no owner buttons
    latest = page.locator("section.card").filter(has=page.get_by_role("heading", name="Latest release"))
    expect(latest.locator(".version-pill")).to_have_text("v1.0.0")
    versions = page.locator("section.card").filter(has=page.get_by_role("heading", name="Versions")).locator("tbody tr")
    expect(versions).to_have_count(1)  # the 1.1.0 draft is the owner's alone
    screenshot("model-page-public")

    # The published file downloads for anyone.
    page.goto(base + "/models/olivia/iris-classifier/versions/1.0.0/")
    expect(page.locator("#upload-form")).to_have_count(0)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="config.json", exact=True).click()
    with open(download_info.value.path(), "rb") as handle:
        assert handle.read() == b'{"classes": 3}'

    # The private model, its draft neighbour and its user page listing give nothing away.
    for path in ("/models/olivia/secret-churn-model/", "/models/olivia/iris-classifier/versions/1.1.0/"):
        response = page.goto(base + path)
        assert response.status == 404, path
    problems.forget()  # each 404 logs "Failed to load resource" in the console, as it should
    page.goto(base + "/users/olivia/")
    expect(page.locator("a.model-name")).to_have_text(["olivia/iris-classifier"])

    page.goto(base + "/accounts/login/")
    screenshot("login")


def test_main_pages_have_no_console_errors_or_csp_violations(page, live_server, problems, login, catalog):
    """Logged in as the owner, so the pages show their owner-only parts and scripts too."""
    base = live_server.url
    login("olivia")
    static_responses = []
    page.on("response", lambda r: static_responses.append(r.url) if "/static/" in r.url else None)
    pages = [
        "/",
        "/models/",
        "/models/?q=iris&ordering=downloads",
        "/models/olivia/iris-classifier/",
        "/models/olivia/iris-classifier/versions/",
        "/models/olivia/iris-classifier/versions/1.0.0/",
        "/models/olivia/iris-classifier/versions/1.1.0/",  # a draft: loads upload.js
        "/models/olivia/secret-churn-model/",
        "/models/new/",
        "/models/olivia/iris-classifier/edit/",
        "/models/olivia/iris-classifier/versions/new/",
        "/users/olivia/",
        "/settings/tokens/",
    ]
    for path in pages:
        response = page.goto(base + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("load")
        # site.css applied (the browser's defaults would be display: block and position: static).
        styles = page.evaluate(
            "[getComputedStyle(document.body).display, getComputedStyle(document.querySelector('.site-header')).position]"
        )
        assert styles == ["flex", "sticky"], (path, styles)
        problems.expect_none()
    assert any(url.endswith("/static/css/site.css") for url in static_responses)
    assert any(url.endswith("/static/js/upload.js") for url in static_responses)
    assert any(url.endswith("/static/js/copy.js") for url in static_responses)

    # The logged-out pages as well.
    page.locator("details.menu summary").click()
    page.get_by_role("button", name="Log out").click()
    for path in ("/accounts/login/", "/accounts/signup/", "/models/olivia/iris-classifier/"):
        assert page.goto(base + path).status == 200, path
        problems.expect_none()


@pytest.mark.parametrize(
    "path,shot",
    [
        ("/", "phone-home"),
        ("/models/?q=iris", "phone-catalog"),
        ("/models/olivia/iris-classifier/", "phone-model-page"),
        ("/models/olivia/iris-classifier/versions/1.0.0/", "phone-version-page"),
    ],
)
def test_phone_width_has_no_horizontal_overflow(page, live_server, problems, screenshot, catalog, path, shot):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + path)
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width}px wide on a {PHONE['width']}px screen"
    # Nothing sticks out of the viewport either (a wide element inside overflow:hidden would not
    # change scrollWidth but would still be cut off); tables scroll inside .table-wrap on purpose.
    sticking_out = page.evaluate(
        """(limit) => Array.from(document.querySelectorAll("body *"))
            .filter((el) => !el.closest(".table-wrap") && !el.closest("pre") && el.getClientRects().length)
            .filter((el) => el.getBoundingClientRect().right > limit + 1)
            .map((el) => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : ""))""",
        PHONE["width"],
    )
    assert not sticking_out, f"{path}: elements wider than the screen: {sticking_out[:10]}"
    screenshot(shot)


def test_the_api_docs_render_without_a_csp_violation(page, live_server, problems):
    """Swagger UI is served from this site (drf-spectacular-sidecar) and must run under the
    site's Content-Security-Policy: no inline script, no blocked style, image or worker."""
    response = page.goto(live_server.url + "/api/docs/")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .information-container", timeout=20000)
    page.wait_for_selector(".opblock-tag", timeout=20000)  # the schema was fetched and drawn
    problems.expect_none()
