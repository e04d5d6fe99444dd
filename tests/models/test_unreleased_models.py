"""Nothing unreviewed is public: a model with no published (or deprecated) version is seen
only by its owner, reviewers who have one of its versions to review, and staff, marked
"no release yet"; for anyone else it is absent from every list and a 404, as a private model.
"""

import pytest
from django.urls import reverse

from models_app.models import RegisteredModel, VersionStatus
from tests.factories import make_model, make_version

from .api.helpers import API, model_url

pytestmark = pytest.mark.django_db

SURFACES = ("catalog", "search", "facets", "home", "user page", "api list", "api search")


@pytest.fixture
def released(owner):
    model = make_model(owner, "released-model", summary="Flowers, reviewed", tags=["flowers"])
    make_version(model, "1.0.0", status=VersionStatus.PUBLISHED)
    return model


@pytest.fixture
def unreleased(owner):
    """Public, with a draft, a rejected and an in-review version, but nothing published."""
    model = make_model(
        owner, "unreleased-model", summary="Flowers, never reviewed", tags=["flowers", "secret-tag"],
        task="anomaly-detection", license="CC0-1.0",
    )  # fmt: skip
    make_version(model, "0.1.0", status=VersionStatus.REJECTED)
    make_version(model, "0.2.0", status=VersionStatus.IN_REVIEW)
    make_version(model, "0.3.0")
    return model


@pytest.fixture
def drafts_only(owner):
    """Public, with only a draft: nothing submitted, so no reviewer has it to review."""
    model = make_model(owner, "drafts-only", summary="Flowers in progress", tags=["flowers"])
    make_version(model, "0.1.0")
    return model


def _listed(web, api_client) -> dict[str, set[str]]:
    """The model names each surface shows to one viewer."""
    catalog = web.get(reverse("model-list")).context
    search = web.get(reverse("model-list"), {"q": "flowers"}).context
    home = web.get(reverse("home")).context
    person = web.get(reverse("user-detail", args=["olivia"])).context
    facets = catalog["facets"]
    return {
        "catalog": {m.name for m in catalog["page"].object_list},
        "search": {m.name for m in search["page"].object_list},
        # A model's own task, license and tag show up in the facets only if it is counted.
        "facets": {value for field in ("task", "license", "tag") for value, _, _ in facets[field]},
        "home": {m.name for m in [*home["recent"], *home["popular"]]},
        "user page": {m.name for m in person["page"].object_list},
        "api list": {row["name"] for row in api_client.get(f"{API}/models/").json()["results"]},
        "api search": {row["name"] for row in api_client.get(f"{API}/models/", {"q": "flowers"}).json()["results"]},
    }


@pytest.mark.parametrize("viewer", ["anonymous", "outsider"])
def test_the_public_sees_no_model_without_a_release(request, viewer, released, unreleased, drafts_only):
    web = request.getfixturevalue("client" if viewer == "anonymous" else "outsider_client")
    api_client = request.getfixturevalue("api" if viewer == "anonymous" else "outsider_api")
    listed = _listed(web, api_client)
    for surface in ("catalog", "search", "home", "user page", "api list", "api search"):
        assert listed[surface] == {"released-model"}, surface
    assert "anomaly-detection" not in listed["facets"]
    assert "CC0-1.0" not in listed["facets"]
    assert "secret-tag" not in listed["facets"]
    assert "tabular-classification" in listed["facets"]
    facets = web.get(reverse("model-list")).context["facets"]
    assert dict((value, n) for value, _, n in facets["tag"])["flowers"] == 1


@pytest.mark.parametrize("viewer", ["anonymous", "outsider"])
def test_a_model_without_a_release_is_a_404_to_the_public(request, viewer, unreleased, drafts_only):
    web = request.getfixturevalue("client" if viewer == "anonymous" else "outsider_client")
    api_client = request.getfixturevalue("api" if viewer == "anonymous" else "outsider_api")
    for model in (unreleased, drafts_only):
        page = web.get(model.get_absolute_url())
        assert page.status_code == 404
        assert b"never reviewed" not in page.content and b"in progress" not in page.content
        assert web.get(reverse("version-list", args=["olivia", model.name])).status_code == 404
        detail = api_client.get(model_url(name=model.name))
        assert detail.status_code == 404
        assert detail.json()["error"] == "not_found"
        assert api_client.get(model_url(name=model.name) + "versions/").status_code == 404


def test_the_owner_sees_their_unreleased_models_everywhere_marked_no_release_yet(
    owner_client, owner_api, released, unreleased, drafts_only
):
    listed = _listed(owner_client, owner_api)
    for surface in ("catalog", "search", "home", "user page", "api list", "api search"):
        assert listed[surface] == {"released-model", "unreleased-model", "drafts-only"}, surface
    assert {"anomaly-detection", "CC0-1.0", "secret-tag"} <= listed["facets"]
    catalog = owner_client.get(reverse("model-list")).content.decode()
    assert catalog.count("data-no-release") == 2
    page = owner_client.get(unreleased.get_absolute_url())
    assert page.status_code == 200
    assert b"No release yet" in page.content and b"data-no-release-note" in page.content
    assert b"No release yet" not in owner_client.get(released.get_absolute_url()).content
    rows = {row["name"]: row for row in owner_api.get(f"{API}/models/").json()["results"]}
    assert rows["unreleased-model"]["has_release"] is False
    assert rows["released-model"]["has_release"] is True


def test_reviewers_see_the_models_they_have_to_review_but_not_mere_drafts(
    reviewer_client, reviewer_api, released, unreleased, drafts_only
):
    listed = _listed(reviewer_client, reviewer_api)
    assert listed["catalog"] == {"released-model", "unreleased-model"}
    assert listed["api list"] == {"released-model", "unreleased-model"}
    assert reviewer_client.get(unreleased.get_absolute_url()).status_code == 200
    assert b"No release yet" in reviewer_client.get(unreleased.get_absolute_url()).content
    assert reviewer_client.get(drafts_only.get_absolute_url()).status_code == 404
    assert reviewer_api.get(model_url(name="drafts-only")).status_code == 404


def test_staff_see_every_model(staff_client, staff_api, released, unreleased, drafts_only):
    listed = _listed(staff_client, staff_api)
    assert listed["catalog"] == {"released-model", "unreleased-model", "drafts-only"}
    assert staff_client.get(drafts_only.get_absolute_url()).status_code == 200


def test_approval_releases_the_model_and_deprecation_keeps_it_released(client, owner, unreleased):
    assert not RegisteredModel.objects.get(pk=unreleased.pk).has_release
    version = make_version(unreleased, "1.0.0", status=VersionStatus.DEPRECATED)
    assert version.status == VersionStatus.DEPRECATED
    assert RegisteredModel.objects.get(pk=unreleased.pk).has_release
    assert client.get(unreleased.get_absolute_url()).status_code == 200
    assert {m.name for m in client.get(reverse("model-list")).context["page"].object_list} == {"unreleased-model"}


def test_a_private_model_with_a_release_stays_private(client, owner):
    model = make_model(owner, "hidden", visibility="private")
    make_version(model, "1.0.0", status=VersionStatus.PUBLISHED)
    assert RegisteredModel.objects.get(pk=model.pk).has_release
    assert client.get(model.get_absolute_url()).status_code == 404


def test_the_visibility_rule_is_one_query_condition_for_every_caller(owner, outsider, released, unreleased):
    """Every reader starts from visible_to(); the rule is in its SQL, on the indexed flag."""
    assert set(RegisteredModel.objects.visible_to(None).values_list("name", flat=True)) == {"released-model"}
    assert set(RegisteredModel.objects.visible_to(outsider).values_list("name", flat=True)) == {"released-model"}
    sql = str(RegisteredModel.objects.visible_to(None).query)
    assert "has_release" in sql
    assert "model_public_release" in {index.name for index in RegisteredModel._meta.indexes}
