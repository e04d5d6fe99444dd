"""Every page renders for the anonymous visitor and for the owner."""

import pytest
from django.urls import reverse

from models_app.models import RegisteredModel, VersionStatus
from tests.factories import make_model, make_released_model, make_version

pytestmark = pytest.mark.django_db


def _public_urls(model) -> list[str]:
    owner, name = model.owner.username, model.name
    return [
        reverse("home"),
        reverse("model-list"),
        reverse("model-list") + "?q=iris&task=tabular-classification&ordering=downloads",
        reverse("model-detail", args=[owner, name]),
        reverse("version-list", args=[owner, name]),
        reverse("version-detail", args=[owner, name, "1.0.0"]),
        reverse("user-detail", args=[owner]),
        reverse("login"),
        reverse("signup"),
    ]


def test_every_public_page_renders_for_anonymous(client, public_model):
    for url in _public_urls(public_model):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"Model Registry" in response.content


def test_every_page_renders_for_owner(owner_client, public_model):
    owner, name = public_model.owner.username, public_model.name
    urls = [url for url in _public_urls(public_model) if "signup" not in url and "login" not in url] + [
        reverse("model-create"),
        reverse("model-edit", args=[owner, name]),
        reverse("model-delete", args=[owner, name]),
        reverse("version-create", args=[owner, name]),
        reverse("version-detail", args=[owner, name, "1.1.0"]),
        reverse("file-remove", args=[owner, name, "1.1.0"]) + "?path=draft.bin",
        reverse("token-list"),
    ]
    for url in urls:
        assert owner_client.get(url).status_code == 200, url


def test_model_page_shows_card_versions_files_and_usage(client, public_model):
    response = client.get(public_model.get_absolute_url())
    html = response.content.decode()
    assert "<h3>Iris classifier</h3>" in html  # the Markdown card, rendered below the page's own h1 and h2
    assert "model.onnx" in html
    assert response.context["latest"].version == "1.0.0"
    published_file = response.context["latest"].files.all()[0]
    assert published_file.sha256[:12] in html
    assert "curl -fL" in html and "urllib.request" in html and "import requests" in html
    assert "/api/v1/models/olivia/iris-classifier/versions/1.0.0/files/model.onnx" in html
    assert "badge-published" in html


def test_deprecated_version_is_shown_with_a_warning(client, owner):
    model = make_model(owner, "old-model")
    make_version(model, "1.0.0", status=VersionStatus.DEPRECATED, files={"a.bin": b"a"})
    response = client.get(reverse("version-detail", args=["olivia", "old-model", "1.0.0"]))
    assert b"deprecated" in response.content and b'class="warning"' in response.content
    assert b'class="warning"' in client.get(model.get_absolute_url()).content


def test_version_page_labels_metrics_as_reported_and_shows_signature(client, owner):
    model = make_model(owner, "m")
    make_version(
        model,
        "2.0.0-rc.1",
        status=VersionStatus.PUBLISHED,
        reported_metrics={"accuracy": 0.9533},
        params={"C": 1.0},
        signature={"inputs": [{"name": "features", "type": "float32", "shape": [None, 4]}], "outputs": []},
    )
    html = client.get(reverse("version-detail", args=["olivia", "m", "2.0.0-rc.1"])).content.decode()
    assert "reported" in html and "0.9533" in html
    assert "features" in html and "[null, 4]" in html
    assert "&quot;C&quot;: 1.0" in html


def test_version_history_is_a_timeline_newest_semver_first(client, owner):
    model = make_model(owner, "timeline")
    for version in ["1.9.0", "1.10.0-rc.1", "1.10.0"]:
        make_version(model, version, status=VersionStatus.PUBLISHED, changelog=f"Changes in {version}")
    response = client.get(reverse("version-list", args=["olivia", "timeline"]))
    assert [v.version for v in response.context["versions"]] == ["1.10.0", "1.10.0-rc.1", "1.9.0"]
    assert b"Changes in 1.10.0" in response.content
    assert b"olivia" in response.content  # who


def test_catalog_filters_search_and_facet_counts(client, owner, outsider):
    make_released_model(owner, "cat-detector", task="image-classification", framework="pytorch", tags=["vision"])
    make_released_model(owner, "dog-detector", task="image-classification", framework="onnx", tags=["vision"])
    make_released_model(outsider, "house-prices", task="tabular-regression", framework="xgboost", license="Apache-2.0")
    response = client.get(reverse("model-list"), {"task": "image-classification"})
    names = [m.name for m in response.context["page"].object_list]
    assert sorted(names) == ["cat-detector", "dog-detector"]
    facets = response.context["facets"]
    assert ("image-classification", "Image classification", 2) in facets["task"]
    assert {value: n for value, _, n in facets["framework"]} == {"pytorch": 1, "onnx": 1}
    assert ("vision", "vision", 2) in facets["tag"]
    response = client.get(reverse("model-list"), {"q": "house"})
    assert [m.name for m in response.context["page"].object_list] == ["house-prices"]
    response = client.get(reverse("model-list"), {"ordering": "name"})
    assert [m.name for m in response.context["page"].object_list] == ["cat-detector", "dog-detector", "house-prices"]


def test_picking_a_facet_value_keeps_the_other_values_listed_and_narrows_the_other_facets(client, owner, outsider):
    make_released_model(owner, "cat-detector", task="image-classification", framework="pytorch")
    make_released_model(owner, "dog-detector", task="image-classification", framework="onnx")
    make_released_model(outsider, "house-prices", task="tabular-regression", framework="xgboost")
    response = client.get(reverse("model-list"), {"task": "tabular-regression"})
    assert [m.name for m in response.context["page"].object_list] == ["house-prices"]
    facets = response.context["facets"]
    # Its own facet counts as if it were not picked, so the way to the other tasks stays open.
    assert ("image-classification", "Image classification", 2) in facets["task"]
    assert ("tabular-regression", "Tabular regression", 1) in facets["task"]
    # The other facets narrow to what the pick leaves.
    assert {value: n for value, _, n in facets["framework"]} == {"xgboost": 1}
    # The chip reads as people read it, and its link drops only that filter.
    assert response.context["active_filters"] == [("Tabular regression", "?")]
    page = response.content.decode()
    assert 'Tabular regression <span aria-hidden="true">✕</span>' in page
    assert "tabular-regression ✕" not in page


def test_chips_keep_the_other_filters_and_the_search(client, owner):
    make_released_model(owner, "cat-detector", task="image-classification", framework="pytorch", tags=["vision"])
    response = client.get(
        reverse("model-list"), {"q": "cat", "task": "image-classification", "tag": "vision", "page": "2"}
    )
    chips = dict(response.context["active_filters"])
    assert chips["Image classification"] == "?q=cat&tag=vision"
    assert chips["#vision"] == "?q=cat&task=image-classification"


@pytest.mark.parametrize("page", ["999", "-1", "abc", "0"])
def test_catalog_out_of_range_page_is_never_a_server_error(client, owner, page):
    make_released_model(owner, "only-one")
    response = client.get(reverse("model-list"), {"page": page})
    # get_page() turns a junk or out-of-range page into the first or the last one.
    assert response.status_code == 200
    assert [m.name for m in response.context["page"].object_list] == ["only-one"]


def test_catalog_unknown_filter_value_shows_an_error_not_a_500(client, owner):
    make_model(owner, "only-one")
    response = client.get(reverse("model-list"), {"task": "time-travel", "ordering": "bogus"})
    assert response.status_code == 200


def test_catalog_paginates(client, owner):
    for index in range(25):
        make_model(owner, f"model-{index:02d}")
    # Listed as released without building 25 releases: this test is about pagination.
    RegisteredModel.objects.filter(owner=owner).update(has_release=True)
    first = client.get(reverse("model-list"), {"ordering": "name"})
    second = client.get(reverse("model-list"), {"ordering": "name", "page": 2})
    assert len(first.context["page"].object_list) == 20
    assert [m.name for m in second.context["page"].object_list] == [f"model-{i}" for i in range(20, 25)]
    assert b"page=2" in first.content


def test_user_page_lists_only_models_the_viewer_may_see(client, owner_client, public_model, private_model):
    url = reverse("user-detail", args=["olivia"])
    assert [m.name for m in client.get(url).context["page"].object_list] == ["iris-classifier"]
    assert {m.name for m in owner_client.get(url).context["page"].object_list} == {"iris-classifier", "secret-model"}
    assert client.get(reverse("user-detail", args=["nobody"])).status_code == 404


def test_home_shows_recent_and_most_downloaded(client, public_model):
    response = client.get(reverse("home"))
    assert [m.name for m in response.context["recent"]] == ["iris-classifier"]
    assert [m.name for m in response.context["popular"]] == ["iris-classifier"]
