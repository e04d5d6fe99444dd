"""The admin is no way around review or the audit trail.

- A version in review, published, deprecated or rejected, and its files, are read-only there:
  no editable field, no delete, no file added through the inline.
- A draft's metadata changes through version_update: its validation is a form error, and the
  change is its `version.update` event.
- Every change made there is one audit event, in any app's admin (Django's User admin too): the
  service's own event where the change goes through one, else `admin.add/change/delete` with
  each field's from and to; each carries the request's IP, user agent and `"via": "admin"`.
- The lists name things as people do (`olivia/iris-classifier 1.0.0`)."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from accounts_app.models import ApiToken
from accounts_app.roles import REVIEWERS_GROUP, is_reviewer, reviewers_group
from accounts_app.services import token_create
from evaluations_app.models import Evaluation
from models_app import services
from models_app.models import Blob, ModelFile, ModelVersion, RegisteredModel, Tag
from registry_site.admin import AuditedAdmin
from registry_site.errors import Conflict
from reviews_app.models import AuditEvent, Notification, Review
from tests.evaluations.web.conftest import make_test_set
from tests.factories import make_model, make_version

from .test_admin import ADMIN, form_of, post, version_url

pytestmark = pytest.mark.django_db
BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (AdminTest)", "REMOTE_ADDR": "192.0.2.44"}
GOOD_SIGNATURE = '{"inputs": [{"name": "x", "type": "float32", "shape": [null, 4]}], "outputs": []}'


@pytest.fixture
def admin_client(superuser) -> Client:
    client = Client(**BROWSER)
    client.force_login(superuser)
    return client


def new_events(before: set[int]) -> list[AuditEvent]:
    return list(AuditEvent.objects.exclude(pk__in=before).order_by("pk"))


def event_ids() -> set[int]:
    return set(AuditEvent.objects.values_list("pk", flat=True))


# --- What was reviewed stays as it is ----------------------------------------------------------

FROZEN = ["in_review", "published", "deprecated", "rejected"]


@pytest.mark.parametrize("status", FROZEN)
def test_a_frozen_versions_page_has_no_editable_field_and_no_delete(admin_client, owner, status):
    version = make_version(make_model(owner), status=status, files={"model.onnx": b"reviewed"})

    page = admin_client.get(version_url(version)).text
    fields = form_of(admin_client, version_url(version))

    editable = [name for name in fields if not name.startswith(("files-", "csrfmiddlewaretoken", "_"))]
    assert editable == []
    assert "files-0-DELETE" not in fields and fields["files-MAX_NUM_FORMS"] == ["0"]
    assert f"/admin/models_app/modelversion/{version.pk}/delete/" not in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page  # view-only: nothing to save
    assert admin_client.post(version_url(version).replace("change", "delete"), {"post": "yes"}).status_code == 403
    assert ModelVersion.objects.filter(pk=version.pk).exists()


@pytest.mark.parametrize("status", FROZEN)
def test_a_forged_post_changes_nothing_of_a_frozen_version_and_records_nothing(admin_client, owner, status):
    version = make_version(make_model(owner), status=status, changelog="As reviewed.")
    before = event_ids()
    data = form_of(admin_client, version_url(version))
    data.update({"changelog": "Rewritten.", "signature": GOOD_SIGNATURE, "status": "published", "version": "9.9.9"})

    assert admin_client.post(version_url(version), data).status_code == 403

    version.refresh_from_db()
    assert (version.changelog, version.status, version.version, version.signature) == (
        "As reviewed.",
        status,
        "1.0.0",
        {},
    )
    assert new_events(before) == []


def test_no_version_or_model_is_added_in_the_admin(admin_client):
    assert admin_client.get(f"{ADMIN}/models_app/modelversion/add/").status_code == 403
    assert admin_client.get(f"{ADMIN}/models_app/registeredmodel/add/").status_code == 403


# --- A draft goes through version_update ------------------------------------------------------


def test_a_drafts_changelog_edited_in_the_admin_is_one_version_update_event(admin_client, owner, superuser):
    draft = make_version(make_model(owner), changelog="First cut.")
    data = form_of(admin_client, version_url(draft))
    assert {"model", "version", "created_by", "status"}.isdisjoint(data)  # only the metadata is editable
    data["changelog"] = "Petals too."

    post(admin_client, version_url(draft), data)

    draft.refresh_from_db()
    assert draft.changelog == "Petals too."
    [event] = AuditEvent.objects.all()
    assert (event.action, event.actor, event.model_full_name, event.version_label) == (
        "version.update",
        superuser,
        "olivia/iris-classifier",
        "1.0.0",
    )
    assert event.data == {"changes": {"changelog": {"from": "First cut.", "to": "Petals too."}}, "via": "admin"}
    assert (event.ip_address, event.user_agent) == ("192.0.2.44", "Mozilla/5.0 (AdminTest)")


@pytest.mark.parametrize(
    "signature, words",
    [
        ('{"inputs": "x"}', "signature.inputs must be a list"),
        ('{"inputs": [{"name": "x"}]}', "signature.inputs[0] needs a"),
        ('{"weights": []}', "unknown keys: weights"),
        ("null", "must be a JSON object"),
        ("{not json", "Enter a valid JSON"),
    ],
)
def test_a_bad_signature_is_a_form_error_and_nothing_is_saved(admin_client, owner, signature, words):
    draft = make_version(make_model(owner))
    data = form_of(admin_client, version_url(draft))
    data.update({"signature": signature, "changelog": "Changed too."})

    response = admin_client.post(version_url(draft), data)

    assert response.status_code == 200 and words in response.text
    draft.refresh_from_db()
    assert (draft.signature, draft.changelog) == ({}, "")
    assert not AuditEvent.objects.exists()


def test_bad_reported_metrics_are_a_form_error(admin_client, owner):
    draft = make_version(make_model(owner))
    data = form_of(admin_client, version_url(draft))
    data["reported_metrics"] = '{"accuracy": "high"}'

    response = admin_client.post(version_url(draft), data)

    assert response.status_code == 200 and "reported_metrics.accuracy must be a number" in response.text
    assert not AuditEvent.objects.exists()


def test_a_refusal_of_the_service_is_a_message_not_a_500(admin_client, owner, monkeypatch):
    """A draft submitted between the page load and the save: version_update refuses, the page says so."""
    draft = make_version(make_model(owner))
    data = form_of(admin_client, version_url(draft))
    data["changelog"] = "Too late."

    def refuses(**kwargs):
        raise Conflict("Version 1.0.0 is in review; its files and details are frozen.", code="version_frozen")

    monkeypatch.setattr(services, "version_update", refuses)
    response = admin_client.post(version_url(draft), data, follow=True)

    assert response.status_code == 200
    assert "Version 1.0.0 is in review; its files and details are frozen." in response.text
    draft.refresh_from_db()
    assert draft.changelog == ""
    assert not AuditEvent.objects.exists()


def test_a_drafts_file_removed_in_the_admin_is_one_file_delete_event(admin_client, owner, superuser):
    draft = make_version(make_model(owner), files={"a.onnx": b"a"})
    data = form_of(admin_client, version_url(draft))
    data["files-0-DELETE"] = "on"

    post(admin_client, version_url(draft), data)

    [event] = AuditEvent.objects.all()
    assert (event.action, event.actor, event.data["path"], event.data["via"]) == (
        "file.delete",
        superuser,
        "a.onnx",
        "admin",
    )


def test_a_draft_deleted_in_the_admin_is_recorded_by_name(admin_client, owner, superuser):
    draft = make_version(make_model(owner), "1.1.0")

    post(admin_client, f"{ADMIN}/models_app/modelversion/{draft.pk}/delete/", {"post": "yes"})

    assert not ModelVersion.objects.filter(pk=draft.pk).exists()
    [event] = AuditEvent.objects.all()
    assert (event.action, event.actor) == ("admin.delete", superuser)
    assert event.data == {
        "object": "models_app.modelversion",
        "id": str(draft.pk),
        "name": "olivia/iris-classifier 1.1.0",
        "via": "admin",
    }


# --- Models, tags, test sets ----------------------------------------------------------------


def model_url(model: RegisteredModel) -> str:
    return f"{ADMIN}/models_app/registeredmodel/{model.pk}/change/"


def test_a_models_summary_edited_in_the_admin_is_one_model_update_event(admin_client, owner, superuser):
    model = make_model(owner)
    data = form_of(admin_client, model_url(model))
    assert {"owner", "name"}.isdisjoint(data)  # its address is not changed here
    data["summary"] = "Edited by staff."

    post(admin_client, model_url(model), data)

    [event] = AuditEvent.objects.all()  # the service's, not a second one of the admin's
    assert (event.action, event.actor, event.model_full_name) == ("model.update", superuser, "olivia/iris-classifier")
    assert event.data["changes"] == {"summary": {"from": "Classifies iris flowers", "to": "Edited by staff."}}


def test_a_forged_owner_or_name_is_ignored(admin_client, owner, outsider):
    model = make_model(owner)
    data = form_of(admin_client, model_url(model))
    data.update({"owner": str(outsider.pk), "name": "stolen"})

    post(admin_client, model_url(model), data)

    model.refresh_from_db()
    assert (model.owner, model.name) == (owner, "iris-classifier")


def test_a_bulk_delete_through_model_delete_records_one_event_per_model(admin_client, owner):
    first, second = make_model(owner, "one"), make_model(owner, "two")

    post(
        admin_client,
        f"{ADMIN}/models_app/registeredmodel/",
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
    )

    assert sorted(AuditEvent.objects.values_list("action", "model_full_name")) == [
        ("model.delete", "olivia/one"),
        ("model.delete", "olivia/two"),
    ]


def test_an_unused_tag_deleted_in_the_admin_is_recorded(admin_client):
    tag = Tag.objects.create(name="orphan")

    post(admin_client, f"{ADMIN}/models_app/tag/{tag.pk}/delete/", {"post": "yes"})

    [event] = AuditEvent.objects.all()
    assert (event.action, event.data["object"], event.data["name"]) == ("admin.delete", "models_app.tag", "orphan")


def test_a_test_sets_description_edited_in_the_admin_is_one_test_set_update_event(admin_client, owner, superuser):
    test_set = make_test_set(owner)
    url = f"{ADMIN}/evaluations_app/testset/{test_set.pk}/change/"
    data = form_of(admin_client, url)
    assert {"owner", "name", "declared_by"}.isdisjoint(data)
    data["description"] = "Forty rows."

    post(admin_client, url, data)

    [event] = AuditEvent.objects.all()
    assert (event.action, event.actor, event.data["changes"]) == (
        "test_set.update",
        superuser,
        {"description": {"from": "", "to": "Forty rows."}},
    )


# --- Accounts: users, groups, tokens ------------------------------------------------------------


def user_url(user) -> str:
    return f"{ADMIN}/auth/user/{user.pk}/change/"


def test_making_a_user_staff_and_a_reviewer_in_the_admin_is_one_event_with_from_and_to(
    admin_client, outsider, superuser
):
    group = reviewers_group()
    data = form_of(admin_client, user_url(outsider))
    data.update({"is_staff": "on", "groups": [str(group.pk)]})

    post(admin_client, user_url(outsider), data)

    outsider.refresh_from_db()
    assert outsider.is_staff and is_reviewer(outsider)
    [event] = AuditEvent.objects.all()
    assert (event.action, event.actor, event.data["object"], event.data["name"]) == (
        "admin.change",
        superuser,
        "auth.user",
        "oscar",
    )
    assert event.data["changes"] == {
        "is_staff": {"from": False, "to": True},
        "groups": {"from": [], "to": [REVIEWERS_GROUP]},
    }
    assert (event.ip_address, event.data["via"]) == ("192.0.2.44", "admin")


def test_a_password_set_in_the_admin_is_recorded_without_the_password(admin_client, outsider):
    url = f"{ADMIN}/auth/user/{outsider.pk}/password/"
    secret = "An0ther-long-passphrase"

    response = admin_client.post(url, {"password1": secret, "password2": secret, "usable_password": "true"})

    assert response.status_code == 302
    [event] = AuditEvent.objects.all()
    assert (event.action, event.data["changes"]) == ("admin.change", {"password": "changed"})
    outsider.refresh_from_db()
    assert secret not in str(event.data) and outsider.password not in str(event.data)


def test_a_user_added_in_the_admin_is_recorded(admin_client):
    response = admin_client.post(
        f"{ADMIN}/auth/user/add/",
        {"username": "nadia", "password1": "a-long-passphrase-9", "password2": "a-long-passphrase-9",
         "usable_password": "true"},
    )  # fmt: skip

    assert response.status_code == 302
    [event] = AuditEvent.objects.all()
    assert (event.action, event.data["name"]) == ("admin.add", "nadia")
    assert event.data["changes"]["password"] == "changed"
    assert get_user_model().objects.get(username="nadia").password not in str(event.data)


def test_a_group_deleted_in_the_admin_is_recorded(admin_client):
    group = Group.objects.create(name="curators")

    post(admin_client, f"{ADMIN}/auth/group/{group.pk}/delete/", {"post": "yes"})

    [event] = AuditEvent.objects.all()
    assert (event.action, event.data["name"]) == ("admin.delete", "curators")


def test_a_bulk_delete_without_a_service_records_one_event_per_object(admin_client, owner, superuser):
    make_version(make_model(owner), status="published")  # notifies the owner of the approval
    Notification.objects.create(user=owner, verb="note", message="A second one.")
    ids = sorted(Notification.objects.filter(user=owner).values_list("pk", flat=True))
    before = event_ids()

    post(
        admin_client,
        f"{ADMIN}/reviews_app/notification/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )

    assert not Notification.objects.filter(pk__in=ids).exists()
    events = new_events(before)
    assert sorted(int(e.data["id"]) for e in events) == ids
    assert {(e.action, e.actor, e.data["object"]) for e in events} == {
        ("admin.delete", superuser, "reviews_app.notification")
    }


def test_a_token_is_revoked_in_the_admin_through_token_revoke_and_never_edited(admin_client, owner, superuser):
    token, _ = token_create(user=owner, name="ci")
    before = event_ids()
    url = f"{ADMIN}/accounts_app/apitoken/{token.pk}/change/"
    assert [name for name in form_of(admin_client, url) if name != "csrfmiddlewaretoken"] == []
    assert admin_client.post(url.replace("change", "delete"), {"post": "yes"}).status_code == 403

    post(admin_client, f"{ADMIN}/accounts_app/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})

    token.refresh_from_db()
    assert token.revoked_at is not None
    [event] = new_events(before)
    assert (event.action, event.actor, event.data["token"], event.data["user"], event.data["via"]) == (
        "token.revoke",
        superuser,
        "ci",
        "olivia",
        "admin",
    )


# --- The trail itself, and every admin of the site ------------------------------------------------


def test_every_admin_of_the_site_is_audited():
    assert admin.site.__class__.__name__ == "RegistryAdminSite"
    unaudited = [model._meta.label for model, model_admin in admin.site._registry.items()
                 if not isinstance(model_admin, AuditedAdmin)]  # fmt: skip
    assert unaudited == []
    assert {"auth.User", "auth.Group", "accounts_app.ApiToken"} <= {m._meta.label for m in admin.site._registry}


def test_an_admin_page_view_records_nothing(admin_client, owner):
    draft = make_version(make_model(owner))

    for url in (version_url(draft), f"{ADMIN}/models_app/modelversion/", f"{ADMIN}/auth/user/"):
        assert admin_client.get(url).status_code == 200

    assert not AuditEvent.objects.exists()


def test_saving_a_form_without_changes_records_nothing(admin_client, outsider):
    post(admin_client, user_url(outsider), form_of(admin_client, user_url(outsider)))

    assert not AuditEvent.objects.exists()


# --- Names as people say them ------------------------------------------------------------------


def test_objects_are_named_as_people_name_them(owner, reviewer):
    version = make_version(make_model(owner), "1.1.0", status="published", files={"model.onnx": b"w"})
    model_file = version.files.get()
    review = Review.objects.get(version=version)
    test_set = make_test_set(owner)
    evaluation = Evaluation.objects.create(version=version, test_set=test_set, model_file=model_file)
    token, _ = token_create(user=owner, name="ci")
    event = AuditEvent.objects.filter(action="review.approve").get()
    notification = Notification.objects.filter(user=owner).first()

    assert str(version) == "olivia/iris-classifier 1.1.0"
    assert str(model_file) == "olivia/iris-classifier 1.1.0 model.onnx"
    assert str(review) == f"Review #{review.pk} of olivia/iris-classifier 1.1.0"
    assert str(evaluation) == f"Evaluation #{evaluation.pk}: olivia/iris-classifier 1.1.0 on olivia/iris-test"
    assert str(test_set) == "olivia/iris-test"
    assert str(Blob.objects.get(pk=model_file.sha256)) == f"sha256:{model_file.sha256}"
    assert str(token) == f"olivia: ci ({token.prefix}…)"
    assert str(event).endswith("release-reviewer review.approve olivia/iris-classifier 1.1.0")
    assert str(notification).startswith("To olivia: release-reviewer approved olivia/iris-classifier 1.1.0")


@pytest.mark.parametrize(
    "path",
    [
        "models_app/modelversion/",
        "models_app/modelfile/",
        "reviews_app/review/",
        "evaluations_app/evaluation/",
        "accounts_app/apitoken/",
        "reviews_app/auditevent/",
    ],
)
def test_the_admin_lists_show_those_names(admin_client, owner, path):
    version = make_version(make_model(owner), "1.1.0", status="published", files={"model.onnx": b"w"})
    Evaluation.objects.create(version=version, test_set=make_test_set(owner), model_file=version.files.get())
    token_create(user=owner, name="ci")

    page = admin_client.get(f"{ADMIN}/{path}").text

    assert "olivia/iris-classifier 1.1.0" in page or "olivia: ci (" in page
    assert f">{version.pk}:1.1.0<" not in page


def test_the_model_file_list_is_read_in_a_fixed_number_of_queries(admin_client, owner, django_assert_max_num_queries):
    for n in range(3):
        make_version(make_model(owner, f"m{n}"), files={"a.onnx": b"a%d" % n, "b.onnx": b"b%d" % n})

    with django_assert_max_num_queries(12):
        assert admin_client.get(f"{ADMIN}/models_app/modelfile/").status_code == 200

    assert ModelFile.objects.count() == 6
    assert ApiToken.objects.count() == 0
