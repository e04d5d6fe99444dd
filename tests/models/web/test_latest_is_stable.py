""" "Latest" is the newest stable release: a published pre-release is listed, and marked as
one, but never named the latest, nor used by the usage snippet."""

import pytest
from django.urls import reverse

from models_app import selectors
from models_app.models import VersionStatus
from tests.factories import make_model, make_version
from tests.models.api.helpers import model_url, versions_url

pytestmark = pytest.mark.django_db
PUBLISHED = VersionStatus.PUBLISHED


@pytest.fixture
def with_rc(owner):
    """1.0.0 and a newer 1.1.0-rc.1, both published."""
    model = make_model(owner, "iris-classifier")
    make_version(model, "1.0.0", status=PUBLISHED, files={"weights.txt": b"stable"})
    make_version(model, "1.1.0-rc.1", status=PUBLISHED, files={"weights.txt": b"candidate"})
    return model


@pytest.fixture
def only_rc(owner):
    model = make_model(owner, "early-bird", summary="Only a release candidate so far")
    make_version(model, "2.0.0-rc.1", status=PUBLISHED, files={"weights.txt": b"candidate"})
    return model


def test_the_api_names_the_stable_release_latest_and_flags_pre_releases(api, with_rc, only_rc):
    assert api.get(model_url()).json()["latest_version"] == "1.0.0"
    assert api.get(model_url(name="early-bird")).json()["latest_version"] is None
    listed = {row["name"]: row["latest_version"] for row in api.get("/api/v1/models/").json()["results"]}
    assert listed == {"iris-classifier": "1.0.0", "early-bird": None}
    versions = {row["version"]: row["is_prerelease"] for row in api.get(versions_url()).json()["results"]}
    assert versions == {"1.1.0-rc.1": True, "1.0.0": False}


def test_the_selectors_skip_pre_releases(with_rc, only_rc):
    assert selectors.latest_public_version(model=with_rc).version == "1.0.0"
    assert selectors.latest_public_version(model=only_rc) is None
    history = selectors.version_history(user=None, model=with_rc)
    assert selectors.latest_public_in(history).version == "1.0.0"
    assert selectors.latest_prerelease_in(history).version == "1.1.0-rc.1"


def test_catalog_and_home_rows_show_the_stable_release(client, with_rc, only_rc):
    for url in (reverse("model-list"), reverse("home"), reverse("model-list") + "?ordering=downloads"):
        html = client.get(url).text
        assert "v1.0.0" in html, url
        assert "v1.1.0-rc.1" not in html and "v2.0.0-rc.1" not in html, url


def test_the_model_page_uses_the_stable_release_and_links_the_newer_pre_release(client, with_rc):
    response = client.get(with_rc.get_absolute_url())
    assert response.context["latest"].version == "1.0.0"
    assert response.context["prerelease"].version == "1.1.0-rc.1"
    assert [u.file.path for u in response.context["usage"]] == ["weights.txt"]
    assert all("/versions/1.0.0/files/" in s.code for s in response.context["usage"][0].snippets)
    html = response.text
    assert "data-prerelease" in html and "Newer, as a pre-release:" in html
    assert reverse("version-detail", args=["olivia", "iris-classifier", "1.1.0-rc.1"]) in html
    # The versions table marks the pre-release, and only it.
    assert html.count('<span class="badge badge-pre"') == 2  # the link above the table, and its row


def test_a_model_with_only_pre_releases_has_no_latest_but_links_the_pre_release(client, only_rc):
    response = client.get(only_rc.get_absolute_url())
    assert response.context["latest"] is None
    assert response.context["usage"] == []
    html = response.text
    assert "No stable release yet." in html and "No published version yet." not in html
    assert "Try the pre-release:" in html
    assert reverse("version-detail", args=["olivia", "early-bird", "2.0.0-rc.1"]) in html


def test_version_page_and_history_mark_the_pre_release(client, with_rc):
    page = client.get(reverse("version-detail", args=["olivia", "iris-classifier", "1.1.0-rc.1"])).text
    assert 'class="badge badge-pre"' in page
    stable = client.get(reverse("version-detail", args=["olivia", "iris-classifier", "1.0.0"])).text
    assert 'class="badge badge-pre"' not in stable
    history = client.get(reverse("version-list", args=["olivia", "iris-classifier"])).text
    assert history.count('class="badge badge-pre"') == 1


def test_a_deprecated_version_badge_says_why(client, owner):
    model = make_model(owner, "old-model")
    make_version(model, "1.0.0", status=VersionStatus.DEPRECATED, files={"weights.txt": b"old"})
    html = client.get(reverse("version-detail", args=["olivia", "old-model", "1.0.0"])).text
    assert '<span class="badge badge-deprecated" title="Deprecated: Superseded.">Deprecated</span>' in html


def test_a_public_version_page_offers_its_own_snippets_a_draft_none(client, owner_client, with_rc):
    rc = client.get(reverse("version-detail", args=["olivia", "iris-classifier", "1.1.0-rc.1"]))
    assert rc.context["usage"] and all("/versions/1.1.0-rc.1/files/" in s.code for s in rc.context["usage"][0].snippets)
    assert 'id="usage"' in rc.text
    make_version(with_rc, "1.2.0", files={"weights.txt": b"draft"})
    draft = owner_client.get(reverse("version-detail", args=["olivia", "iris-classifier", "1.2.0"]))
    assert draft.context["usage"] == [] and 'id="usage"' not in draft.text


def test_the_version_page_lists_declared_class_labels(client, owner):
    signature = {"outputs": [{"name": "label", "type": "int64", "classes": ["setosa", "versicolor"]}]}
    make_version(make_model(owner), "1.0.0", status=PUBLISHED, files={"w.txt": b"w"}, signature=signature)
    html = client.get(reverse("version-detail", args=["olivia", "iris-classifier", "1.0.0"])).text
    assert "Classes: setosa, versicolor" in html
