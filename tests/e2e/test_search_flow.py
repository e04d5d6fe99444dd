"""A visitor's search, end to end in Chromium: from the home page, "iris classifier" finds the
iris model first (above a model that only mentions both words and is downloaded more), its
page opens, and its usage snippet downloads the file and checks its SHA-256. Runs on whichever
database is configured (SQLite's FTS5 index or PostgreSQL's search vector)."""

import hashlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sklearn.linear_model import LogisticRegression

from models_app.models import RegisteredModel, VersionStatus
from tests.evaluations.crafted import iris_split, sklearn_onnx
from tests.factories import make_model, make_version

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/shots/search")
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}


@pytest.fixture
def catalog(owner, outsider):
    X_train, _, y_train, _ = iris_split()
    onnx_bytes = sklearn_onnx(LogisticRegression(max_iter=500).fit(X_train, y_train), X_train)
    iris = make_model(
        owner,
        "iris-classifier",
        summary="Logistic regression that tells the three iris species apart from sepal and petal sizes.",
        tags=["iris", "tabular", "baseline"],
        description="# Iris classifier\n\nTrained on Fisher's iris data.",
    )
    make_version(iris, "1.0.0", status=VersionStatus.PUBLISHED, files={"model.onnx": onnx_bytes})
    # Both words, but neither in the name: more downloads do not put it first.
    flowers = make_model(
        outsider,
        "flower-species",
        summary="A classifier for flowers, the iris among them.",
        tags=["flowers"],
        description="",
    )
    make_version(flowers, "1.0.0", status=VersionStatus.PUBLISHED, files={"model.onnx": onnx_bytes})
    RegisteredModel.objects.filter(pk=flowers.pk).update(download_count=500)
    wine = make_model(
        outsider, "wine-forest", summary="Random forest classifier of Italian wines.", tags=["wine"], description=""
    )
    make_version(wine, "1.0.0", status=VersionStatus.PUBLISHED)
    return hashlib.sha256(onnx_bytes).hexdigest()


def test_a_visitor_finds_the_iris_model_first_and_sees_how_to_use_it(page, live_server, problems, catalog):
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(WIDE)

    page.goto(base + "/")
    box = page.locator(".hero-search input[name=q]")
    box.fill("iris classifier")
    box.press("Enter")

    expect(page).to_have_url(re.compile(r"/models/\?q=iris\+classifier$"))
    results = page.locator(".results .model-row a.model-name")
    expect(results).to_have_text(["olivia/iris-classifier", "oscar/flower-species"])
    expect(page.locator(".sort a[aria-current=true]")).to_have_text("Best match")
    page.screenshot(path=str(SHOTS / "search-wide.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / "search-phone.png"), full_page=True)
    page.set_viewport_size(WIDE)

    results.first.click()

    expect(page).to_have_url(f"{base}/models/olivia/iris-classifier/")
    usage = page.locator("section.usage")
    expect(usage.get_by_role("heading", name="Use this model")).to_be_visible()
    expect(usage).to_contain_text("model.onnx")
    expect(usage).to_contain_text(catalog)  # the snippet checks the file's SHA-256
    page.screenshot(path=str(SHOTS / "model-wide.png"), full_page=True)


def test_the_header_search_finds_by_name_word_or_prefix_and_takes_syntax_as_text(page, live_server, problems, catalog):
    def search(q: str) -> None:
        page.goto(live_server.url + "/")
        box = page.locator("header .header-search input[name=q]")
        box.fill(q)
        box.press("Enter")

    for q in ["iris-classifier", "IRIS", "classif", "Iris classifier"]:
        search(q)
        expect(page.locator(".results .model-row a.model-name").first).to_have_text("olivia/iris-classifier")
    for q in ['"', "NEAR(", "a:*", "!", 'iris" OR "wine']:
        search(q)
        expect(page.locator(".results .empty")).to_contain_text("No models match")
