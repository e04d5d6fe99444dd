"""The public model card is the one that was reviewed (models_app/cards.py).

A released model's card edits wait in `pending_card`; a version takes the working copy at
submission; its approval publishes that card. The public (anonymous, outsiders) reads the
latest approval's card on every surface; the owner, reviewers and staff see the pending edits,
marked, and the review page shows them as a diff.
"""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from models_app import services
from models_app.cards import published_card, working_card
from models_app.models import ModelVersion, RegisteredModel, VersionStatus
from registry_site.errors import DomainError
from reviews_app import services as review_services
from reviews_app.diff import diff_snapshots
from reviews_app.models import Review
from tests.factories import make_model, make_version, release_reviewer
from tests.models.web.test_query_counts import CATALOG_QUERIES, MODEL_PAGE_WITH_CHARTS_QUERIES, SESSION_QUERIES

from ..models.api.helpers import API, model_url

pytestmark = pytest.mark.django_db

OLD_CARD = "# Iris\n\nA logistic regression on the iris flowers.\n\n## Intended use\n\nTeaching."
NEW_CARD = "# Iris\n\nA logistic regression on the iris flowers.\n\n## Intended use\n\nTeaching and zygomorphic demos."


@pytest.fixture
def released(owner):
    model = make_model(owner, "iris", summary="Classifies iris flowers", description=OLD_CARD, tags=["iris"])
    make_version(model, "1.0.0", status=VersionStatus.PUBLISHED)
    return RegisteredModel.objects.get(pk=model.pk)


def _edit(model, actor, **fields):
    return services.model_update(model=model, actor=actor, **fields)


def _edit_everything(model, owner):
    return _edit(
        model, owner, summary="Quokka-grade iris classifier", description=NEW_CARD, task="tabular-regression",
        framework="xgboost", license="Apache-2.0", tags=["iris", "quokka"],
    )  # fmt: skip


def _approve(version: ModelVersion) -> None:
    review = Review.objects.get(version=version, status="open")
    review_services.review_decide(
        review=review, actor=release_reviewer(version.model), decision="approve",
        comment="Fine.", override_regression=True, override_scan=True,
    )  # fmt: skip


# --- Edits to a released model wait for review ---


def test_an_edit_to_a_released_model_is_stored_as_pending_and_the_columns_keep_the_approved_card(owner, released):
    _edit_everything(released, owner)
    stored = RegisteredModel.objects.get(pk=released.pk)
    assert (stored.summary, stored.task, stored.framework, stored.license) == (
        "Classifies iris flowers", "tabular-classification", "scikit-learn", "MIT",
    )  # fmt: skip
    assert stored.description == OLD_CARD
    assert sorted(stored.tags.values_list("name", flat=True)) == ["iris"]
    assert stored.pending_card == {
        "summary": "Quokka-grade iris classifier", "description": NEW_CARD, "task": "tabular-regression",
        "framework": "xgboost", "license": "Apache-2.0", "tags": ["iris", "quokka"],
    }  # fmt: skip
    assert stored.updated_at == released.updated_at  # nothing public changed


def test_editing_back_to_the_approved_value_clears_the_pending_edit(owner, released):
    _edit(released, owner, summary="Something else")
    _edit(released, owner, summary="Classifies iris flowers")
    assert RegisteredModel.objects.get(pk=released.pk).pending_card == {}


def test_a_pending_edit_is_validated_like_a_published_one(owner, released):
    with pytest.raises(DomainError):
        _edit(released, owner, task="not-a-task")
    with pytest.raises(DomainError):
        _edit(released, owner, summary="x" * 301)
    assert RegisteredModel.objects.get(pk=released.pk).pending_card == {}


def test_a_model_without_a_release_takes_edits_at_once(owner):
    model = make_model(owner, "fresh", summary="First words")
    _edit(model, owner, summary="Second words", tags=["new"])
    stored = RegisteredModel.objects.get(pk=model.pk)
    assert stored.summary == "Second words" and stored.pending_card == {}
    assert list(stored.tags.values_list("name", flat=True)) == ["new"]


def test_visibility_changes_at_once_even_on_a_released_model(owner, released):
    _edit(released, owner, visibility="private", summary="Pending words")
    stored = RegisteredModel.objects.get(pk=released.pk)
    assert stored.visibility == "private"
    assert stored.summary == "Classifies iris flowers"


# --- What each reader sees ---


@pytest.mark.parametrize("viewer", ["anonymous", "outsider"])
def test_the_public_reads_the_approved_card_everywhere(request, viewer, owner, released):
    _edit_everything(released, owner)
    web = request.getfixturevalue("client" if viewer == "anonymous" else "outsider_client")
    api_client = request.getfixturevalue("api" if viewer == "anonymous" else "outsider_api")
    page = web.get(released.get_absolute_url()).content.decode()
    assert "Classifies iris flowers" in page and "Teaching." in page
    assert "Quokka" not in page and "zygomorphic" not in page and "quokka" not in page
    assert "data-pending-edits" not in page
    catalog = web.get(reverse("model-list")).content.decode()
    assert "Classifies iris flowers" in catalog and "Quokka" not in catalog
    # Search, filters and facets read the published card: the pending words find nothing.
    for query in ({"q": "quokka"}, {"q": "zygomorphic"}, {"tag": "quokka"}, {"task": "tabular-regression"}):
        assert list(web.get(reverse("model-list"), query).context["page"].object_list) == [], query
    facets = web.get(reverse("model-list")).context["facets"]
    assert [value for value, _, _ in facets["task"]] == ["tabular-classification"]
    assert [value for value, _, _ in facets["framework"]] == ["scikit-learn"]
    assert [value for value, _, _ in facets["license"]] == ["MIT"]
    assert [value for value, _, _ in facets["tag"]] == ["iris"]
    detail = api_client.get(model_url(name="iris")).json()
    assert (detail["summary"], detail["description"], detail["task"], detail["license"], detail["tags"]) == (
        "Classifies iris flowers", OLD_CARD, "tabular-classification", "MIT", ["iris"],
    )  # fmt: skip
    assert detail["pending_edits"] == {}
    listed = api_client.get(f"{API}/models/").json()["results"]
    assert [(row["summary"], row["pending_edits"]) for row in listed] == [("Classifies iris flowers", {})]
    assert api_client.get(f"{API}/models/", {"q": "quokka"}).json()["count"] == 0


def test_the_owner_sees_the_pending_card_marked_on_the_model_page(owner_client, owner, released):
    _edit_everything(released, owner)
    page = owner_client.get(released.get_absolute_url()).content.decode()
    assert "Quokka-grade iris classifier" in page and "zygomorphic" in page and "#quokka" in page
    assert "Tabular regression" in page and "XGBoost" in page and "Apache-2.0" in page
    assert "data-pending-edits" in page
    assert "shown publicly once a version carrying them is approved" in page
    form = owner_client.get(reverse("model-edit", args=["olivia", "iris"]))
    assert form.context["form"].initial["summary"] == "Quokka-grade iris classifier"
    assert form.context["form"].initial["tags"] == ["iris", "quokka"]
    assert b"data-review-note" in form.content


def test_reviewers_and_staff_see_the_pending_card_outsiders_do_not(
    reviewer_client, staff_client, outsider_client, owner, released
):
    _edit(released, owner, summary="Pending words")
    for viewer in (reviewer_client, staff_client):
        assert b"Pending words" in viewer.get(released.get_absolute_url()).content
    assert b"Pending words" not in outsider_client.get(released.get_absolute_url()).content


def test_the_api_keeps_the_fields_published_and_shows_the_owner_the_pending_edits(owner_api, reviewer_api, released):
    response = owner_api.patch(model_url(name="iris"), {"summary": "Pending words", "tags": ["b", "a"]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["summary"] == "Classifies iris flowers"
    assert body["pending_edits"] == {"summary": "Pending words", "tags": ["a", "b"]}
    assert reviewer_api.get(model_url(name="iris")).json()["pending_edits"]["summary"] == "Pending words"
    row = owner_api.get(f"{API}/models/").json()["results"][0]
    assert (row["summary"], row["pending_edits"]["summary"]) == ("Classifies iris flowers", "Pending words")
    refused = owner_api.patch(model_url(name="iris"), {"pending_edits": {}}, format="json")
    assert refused.status_code == 400


# --- A version carries the card; its approval publishes it ---


def test_a_new_version_carries_the_edits_and_its_approval_publishes_them(client, owner, released):
    _edit_everything(released, owner)
    version = make_version(released, "1.1.0", status=VersionStatus.IN_REVIEW)
    assert version.card["summary"] == "Quokka-grade iris classifier"
    assert b"Quokka" not in client.get(released.get_absolute_url()).content  # in review is not approved
    _approve(version)
    stored = RegisteredModel.objects.get(pk=released.pk)
    assert stored.pending_card == {}
    assert published_card(stored).as_dict() == version.card
    assert sorted(stored.tags.values_list("name", flat=True)) == ["iris", "quokka"]
    page = client.get(released.get_absolute_url()).content.decode()
    assert "Quokka-grade iris classifier" in page and "zygomorphic" in page
    assert [m.name for m in client.get(reverse("model-list"), {"q": "quokka"}).context["page"].object_list] == ["iris"]
    assert [m.name for m in client.get(reverse("model-list"), {"tag": "quokka"}).context["page"].object_list] == [
        "iris"
    ]


def test_edits_made_after_submission_wait_for_the_next_version(client, owner, released):
    _edit(released, owner, summary="Submitted words")
    version = make_version(released, "1.1.0", status=VersionStatus.IN_REVIEW)
    _edit(RegisteredModel.objects.get(pk=released.pk), owner, summary="Later words")
    _approve(version)
    stored = RegisteredModel.objects.get(pk=released.pk)
    assert stored.summary == "Submitted words"
    assert stored.pending_card == {"summary": "Later words"}
    assert working_card(stored).summary == "Later words"
    assert b"Later words" not in client.get(released.get_absolute_url()).content


def test_the_first_approval_publishes_the_card_submitted_not_a_later_edit(client, owner):
    model = make_model(owner, "first", summary="Submitted first words")
    version = make_version(model, "1.0.0", status=VersionStatus.IN_REVIEW)
    _edit(RegisteredModel.objects.get(pk=model.pk), owner, summary="Edited while in review")
    _approve(version)
    stored = RegisteredModel.objects.get(pk=model.pk)
    assert (stored.summary, stored.pending_card) == ("Submitted first words", {"summary": "Edited while in review"})
    assert b"Submitted first words" in client.get(model.get_absolute_url()).content


def test_rejection_and_requested_changes_publish_nothing(client, owner, released):
    _edit(released, owner, summary="Rejected words")
    make_version(released, "1.1.0", status=VersionStatus.REJECTED)
    make_version(released, "1.2.0", status=VersionStatus.CHANGES_REQUESTED)
    stored = RegisteredModel.objects.get(pk=released.pk)
    assert stored.summary == "Classifies iris flowers"
    assert stored.pending_card == {"summary": "Rejected words"}


def test_the_approval_snapshot_holds_the_whole_card(owner, released):
    _edit_everything(released, owner)
    version = make_version(released, "1.1.0", status=VersionStatus.PUBLISHED)
    snapshot = Review.objects.get(version=version, decision="approve").approved_snapshot
    assert snapshot["metadata"] == version.card
    assert set(snapshot["metadata"]) == {"summary", "description", "task", "framework", "license", "tags"}


def test_the_review_page_shows_the_card_the_version_carries_and_its_diff(reviewer_client, owner, released):
    _edit_everything(released, owner)
    version = make_version(released, "1.1.0", status=VersionStatus.IN_REVIEW)
    review = Review.objects.get(version=version, status="open")
    response = reviewer_client.get(reverse("review-detail", args=[review.pk]))
    diff = response.context["diff"]
    assert [change.name for change in diff.metadata] == [
        "description",
        "framework",
        "license",
        "summary",
        "tags",
        "task",
    ]
    page = response.content.decode()
    assert "Quokka-grade iris classifier" in page and "zygomorphic" in page
    assert "data-text-diff" in page and "text-diff-add" in page and "text-diff-remove" in page


def test_the_checks_read_the_card_the_version_carries(owner, released):
    _edit(released, owner, description="TODO")  # a placeholder card, which the card check fails
    version = make_version(released, "1.1.0", status=VersionStatus.IN_REVIEW)
    checks = {check["name"]: check for check in Review.objects.get(version=version).checks}
    assert checks["model_card"]["status"] == "fail"


# --- The migration's backfill ---


def test_the_backfill_releases_published_models_and_gives_submitted_versions_their_card(owner, released):
    unreleased = make_model(owner, "draft-only")
    make_version(unreleased, "0.1.0")
    RegisteredModel.objects.update(has_release=False)
    ModelVersion.objects.update(card={})
    migration = importlib.import_module("models_app.migrations.0007_review_promise")
    migration.backfill(apps, None)
    assert set(RegisteredModel.objects.filter(has_release=True).values_list("name", flat=True)) == {"iris"}
    version = ModelVersion.objects.get(model=released, version="1.0.0")
    assert version.card == published_card(released).as_dict()
    assert ModelVersion.objects.get(model=unreleased).card == {}


def test_the_owner_page_names_the_version_in_review_that_carries_the_edits(owner_client, owner, released):
    _edit(released, owner, summary="Carried words")
    make_version(released, "1.1.0", status=VersionStatus.IN_REVIEW)
    response = owner_client.get(released.get_absolute_url())
    assert response.context["pending_carrier"].version == "1.1.0"
    assert b"in review, carries them" in response.content
    _edit(RegisteredModel.objects.get(pk=released.pk), owner, summary="Words no version carries")
    assert owner_client.get(released.get_absolute_url()).context["pending_carrier"] is None


def test_a_changed_card_diffs_line_by_line():
    old = {"version": "1.0.0", "metadata": {"description": OLD_CARD, "summary": "Iris"}}
    new = {"version": "1.1.0", "metadata": {"description": NEW_CARD, "summary": "Iris"}}
    (change,) = diff_snapshots(old, new).metadata
    assert change.name == "description"
    lines = change.text_diff
    assert ("remove", "-Teaching.") in lines and ("add", "+Teaching and zygomorphic demos.") in lines
    assert lines[0][0] == "hunk"
    assert (
        diff_snapshots(old, {**new, "metadata": {**new["metadata"], "summary": "Irises"}}).metadata[1].text_diff == []
    )


def test_the_card_costs_no_query_on_the_model_page_or_the_catalog(
    client, owner_client, owner, released, django_assert_max_num_queries
):
    _edit_everything(released, owner)
    make_model(owner, "unreleased", summary="Flowers too")
    url = released.get_absolute_url()
    with django_assert_max_num_queries(MODEL_PAGE_WITH_CHARTS_QUERIES):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(MODEL_PAGE_WITH_CHARTS_QUERIES + SESSION_QUERIES):
        assert b"data-pending-edits" in owner_client.get(url).content
    for viewer, bound in ((client, CATALOG_QUERIES), (owner_client, CATALOG_QUERIES + SESSION_QUERIES)):
        with django_assert_max_num_queries(bound):
            assert viewer.get(reverse("model-list"), {"q": "iris"}).status_code == 200
