"""Changes made in the apps below the review workflow leave an audit event too: a model
deleted, its visibility changed, its card edited, a benchmark marked or unmarked and its
regression gate moved. Each writes exactly one event, in the transaction of the change."""

import pytest
from django.db import transaction
from django.urls import reverse

from evaluations_app import services as ev
from models_app import services as catalog
from models_app.audit import audit
from models_app.models import RegisteredModel
from reviews_app.models import AuditEvent
from tests.evaluations.web.conftest import make_test_set
from tests.factories import make_model, make_version
from tests.models.api.helpers import model_url

pytestmark = pytest.mark.django_db


# Only the catalog's and evaluation's own actions: making a version's status with the
# factories records the review workflow's events too.
def own_events():
    return AuditEvent.objects.filter(action__regex=r"^(model|test_set)\.")


def the_event() -> AuditEvent:
    """The one such event recorded (fails if there are none or several)."""
    return own_events().get()


def test_deleting_a_model_records_who_what_and_the_versions_that_went(owner, owner_api):
    model = make_model(owner)
    make_version(model, "1.0.0")
    make_version(model, "1.1.0", status="rejected")

    assert owner_api.delete(model_url()).status_code == 204

    event = the_event()
    assert (event.action, event.actor, event.actor_username) == ("model.delete", owner, "olivia")
    assert (event.from_status, event.to_status, event.model_full_name) == (
        "public",
        "deleted",
        "olivia/iris-classifier",
    )
    assert event.data == {"versions": {"1.0.0": "draft", "1.1.0": "rejected"}}


def test_a_refused_delete_records_nothing(owner, owner_api):
    make_version(make_model(owner), "1.0.0", status="published")

    assert owner_api.delete(model_url()).status_code == 409

    assert not own_events().exists()


def test_changing_a_models_visibility_records_from_and_to(owner, owner_api):
    make_model(owner)

    owner_api.patch(model_url(), {"visibility": "private"}, format="json")
    owner_api.patch(model_url(), {"summary": "Still private."}, format="json")  # an edit, not a visibility change

    event = own_events().get(action="model.visibility")
    assert (event.action, event.actor, event.from_status, event.to_status) == (
        "model.visibility",
        owner,
        "public",
        "private",
    )
    assert event.model_full_name == "olivia/iris-classifier"
    edit = own_events().exclude(pk=event.pk).get()
    assert (edit.action, edit.data["changes"]) == (
        "model.update",
        {"summary": {"from": "Classifies iris flowers", "to": "Still private."}},
    )


def test_the_web_form_records_a_visibility_change_too(owner, owner_client):
    model = make_model(owner, visibility="private")
    data = {field: getattr(model, field) for field in catalog.MODEL_FIELDS} | {"visibility": "public", "tags": ""}

    owner_client.post(reverse("model-edit", args=["olivia", "iris-classifier"]), data)

    event = own_events().get(action="model.visibility")
    assert (event.action, event.actor, event.from_status, event.to_status) == (
        "model.visibility",
        owner,
        "private",
        "public",
    )


def test_marking_and_unmarking_a_benchmark_records_one_event_each(owner, staff, staff_client):
    test_set = make_test_set(owner)
    url = reverse("test-set-benchmark", args=["olivia", "iris-test"])

    staff_client.post(url, {"benchmark": "on", "regression_threshold": "0.02"})
    marked = the_event()
    staff_client.post(url, {"regression_threshold": "0.02"})

    unmarked = own_events().exclude(pk=marked.pk).get()
    for event, action, before, after in (
        (marked, "test_set.mark_benchmark", "not_benchmark", "benchmark"),
        (unmarked, "test_set.unmark_benchmark", "benchmark", "not_benchmark"),
    ):
        assert (event.action, event.actor, event.from_status, event.to_status) == (action, staff, before, after)
        assert event.data == {"test_set": test_set.full_name}


def test_moving_a_benchmarks_regression_gate_records_from_and_to(owner, staff):
    test_set = ev.test_set_update(test_set=make_test_set(owner), actor=staff, benchmark=True)

    ev.test_set_update(test_set=test_set, actor=staff, regression_threshold=0.05)
    ev.test_set_update(test_set=test_set, actor=staff, regression_threshold=0.05)  # unchanged: no event

    event = own_events().exclude(action="test_set.mark_benchmark").get()
    assert (event.action, event.actor, event.actor_username) == ("test_set.regression_threshold", staff, "sam")
    assert (event.from_status, event.to_status) == ("0.02", "0.05")
    assert event.data == {"test_set": "olivia/iris-test", "from": 0.02, "to": 0.05}


def test_a_description_change_records_from_and_to_and_no_benchmark_event(owner):
    ev.test_set_update(test_set=make_test_set(owner), actor=owner, description="New words.")

    event = the_event()
    assert (event.action, event.actor) == ("test_set.update", owner)
    assert event.data == {"test_set": "olivia/iris-test", "changes": {"description": {"from": "", "to": "New words."}}}


def test_the_event_rolls_back_with_a_change_that_fails(owner, monkeypatch):
    """Written in the change's transaction: a delete that fails after the event leaves none."""
    model = make_model(owner)

    def fails(self, *args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(RegisteredModel, "delete", fails)

    with pytest.raises(RuntimeError):
        catalog.model_delete(model=model, actor=owner)

    assert not AuditEvent.objects.exists()
    assert RegisteredModel.objects.filter(pk=model.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_an_event_outside_a_transaction_is_a_programming_error(owner):
    with pytest.raises(RuntimeError, match="transaction"):
        audit(actor=owner, action="model.delete")
    with transaction.atomic():
        audit(actor=owner, action="model.delete", model_full_name="olivia/x")

    assert the_event().model_full_name == "olivia/x"
