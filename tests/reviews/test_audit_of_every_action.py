"""Every state change a user can make leaves exactly one audit event, named for the action,
with who did it and what changed (from and to), walked through the API or the page as a
user would. The factories' set-up records nothing (tests/factories.py), so each test sees
only the events of what it does."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts_app.models import ApiToken
from accounts_app.roles import Role, is_reviewer, role_grant
from reviews_app.models import AuditEvent
from tests.evaluations import crafted
from tests.evaluations.web.conftest import make_test_set
from tests.factories import make_model, make_version
from tests.models.api.helpers import API, assert_error, file_url, files_url, model_url, upload, version_url

pytestmark = pytest.mark.django_db

CHROME = {"HTTP_USER_AGENT": "Mozilla/5.0 (AuditTest)", "REMOTE_ADDR": "198.51.100.7"}


def the_event() -> AuditEvent:
    """The one event recorded (fails if there are none or several)."""
    events = list(AuditEvent.objects.all())
    assert len(events) == 1, [(e.action, e.actor_username) for e in events]
    return events[0]


# --- Models ------------------------------------------------------------------------------


def test_registering_a_model_through_the_api(owner, owner_api):
    body = {"name": "iris-classifier", "task": "tabular-classification", "framework": "onnx", "license": "MIT"}

    assert owner_api.post(f"{API}/models/", body, format="json").status_code == 201

    event = the_event()
    assert (event.action, event.actor, event.model_full_name, event.to_status) == (
        "model.create",
        owner,
        "olivia/iris-classifier",
        "public",
    )
    assert event.data == {"task": "tabular-classification", "framework": "onnx", "license": "MIT"}


def test_registering_a_model_through_the_page(owner, owner_client):
    form = {
        "name": "wine",
        "task": "tabular-regression",
        "framework": "onnx",
        "license": "MIT",
        "visibility": "private",
    }

    assert owner_client.post(reverse("model-create"), form).status_code == 302

    event = the_event()
    assert (event.action, event.actor, event.model_full_name, event.to_status) == (
        "model.create",
        owner,
        "olivia/wine",
        "private",
    )


def test_editing_a_models_card_records_each_changed_field_from_and_to(owner, owner_api):
    make_model(owner)

    owner_api.patch(model_url(), {"summary": "Iris, now with petals.", "license": "MIT"}, format="json", **CHROME)

    event = the_event()
    assert (event.action, event.actor, event.model_full_name) == ("model.update", owner, "olivia/iris-classifier")
    # The license was MIT already: only what changed is named.
    assert event.data == {"changes": {"summary": {"from": "Classifies iris flowers", "to": "Iris, now with petals."}}}


def test_an_edit_that_changes_nothing_records_nothing(owner, owner_api):
    make_model(owner)

    assert owner_api.patch(model_url(), {"summary": "Classifies iris flowers"}, format="json").status_code == 200

    assert not AuditEvent.objects.exists()


def test_a_card_posted_back_unchanged_from_a_browser_records_nothing(owner, owner_client):
    """Browsers end a textarea's lines in CR LF; the card is stored with LF, so no change."""
    model = make_model(owner, description="# Iris\n\nA logistic regression.")
    form = {"summary": model.summary, "task": model.task, "framework": model.framework, "license": model.license,
            "tags": "iris tabular", "visibility": "public", "description": "# Iris\r\n\r\nA logistic regression."}  # fmt: skip

    assert owner_client.post(reverse("model-edit", args=["olivia", "iris-classifier"]), form).status_code == 302

    assert not AuditEvent.objects.exists()
    model.refresh_from_db()
    assert model.description == "# Iris\n\nA logistic regression."


def test_changing_the_tags_records_them_from_and_to(owner, owner_api):
    make_model(owner)

    owner_api.patch(model_url(), {"tags": ["iris", "botany"]}, format="json")

    assert the_event().data == {"changes": {"tags": {"from": ["iris", "tabular"], "to": ["botany", "iris"]}}}


def test_making_a_model_private_is_one_visibility_event(owner, owner_api):
    make_model(owner)

    owner_api.patch(model_url(), {"visibility": "private"}, format="json")

    event = the_event()
    assert (event.action, event.actor, event.from_status, event.to_status) == (
        "model.visibility",
        owner,
        "public",
        "private",
    )


def test_deleting_a_model_through_the_page(owner, owner_client):
    make_model(owner)

    owner_client.post(reverse("model-delete", args=["olivia", "iris-classifier"]), {"confirm": "iris-classifier"})

    event = the_event()
    assert (event.action, event.actor, event.to_status) == ("model.delete", owner, "deleted")


# --- Versions and files ------------------------------------------------------------------


def test_creating_a_version_through_the_api(owner, owner_api):
    make_model(owner)

    assert owner_api.post(model_url() + "versions/", {"version": "1.0.0"}, format="json").status_code == 201

    event = the_event()
    assert (event.action, event.actor, event.model_full_name, event.version_label, event.to_status) == (
        "version.create",
        owner,
        "olivia/iris-classifier",
        "1.0.0",
        "draft",
    )
    assert event.version is not None


def test_editing_a_draft_records_each_changed_field_from_and_to(owner, owner_api):
    make_version(make_model(owner), changelog="First cut.")
    signature = {"inputs": [{"name": "x", "type": "float32", "shape": [None, 4]}], "outputs": []}

    response = owner_api.patch(version_url(), {"changelog": "Petals too.", "signature": signature}, format="json")

    assert response.status_code == 200, response.content
    event = the_event()
    assert (event.action, event.actor, event.version_label) == ("version.update", owner, "1.0.0")
    assert event.data == {
        "changes": {
            "changelog": {"from": "First cut.", "to": "Petals too."},
            "signature": {"from": {}, "to": signature},
        }
    }


def test_a_refused_draft_edit_records_nothing(owner, owner_api):
    make_version(make_model(owner))

    assert_error(owner_api.patch(version_url(), {"signature": {"inputs": "x"}}, format="json"), 400)

    assert not AuditEvent.objects.exists()


def test_uploading_and_removing_a_file_through_the_api(owner, owner_api):
    make_version(make_model(owner))

    assert owner_api.post(files_url(), {"file": upload(b"weights", "model.bin")}, format="multipart").status_code == 201
    uploaded = the_event()
    assert owner_api.delete(file_url("model.bin")).status_code == 204

    removed = AuditEvent.objects.exclude(pk=uploaded.pk).get()
    for event, action in ((uploaded, "file.upload"), (removed, "file.delete")):
        assert (event.action, event.actor, event.model_full_name, event.version_label) == (
            action,
            owner,
            "olivia/iris-classifier",
            "1.0.0",
        )
        assert event.data["path"] == "model.bin"
        assert event.data["sha256"] == uploaded.data["sha256"]
    assert uploaded.data["size"] == 7


def test_uploading_and_removing_a_file_through_the_page(owner, owner_client):
    make_version(make_model(owner))
    args = ["olivia", "iris-classifier", "1.0.0"]

    owner_client.post(reverse("file-upload", args=args), {"file": upload(b"weights", "model.bin")})
    owner_client.post(reverse("file-remove", args=args), {"path": "model.bin"})

    assert list(AuditEvent.objects.order_by("pk").values_list("action", "actor_username", "data__path")) == [
        ("file.upload", "olivia", "model.bin"),
        ("file.delete", "olivia", "model.bin"),
    ]


def test_an_upload_to_a_published_version_is_refused_and_records_nothing(owner, owner_api):
    make_version(make_model(owner), status="published")
    before = AuditEvent.objects.count()  # the factory's submission and approval

    assert_error(owner_api.post(files_url(), {"file": upload(b"late", "late.bin")}, format="multipart"), 409)

    assert AuditEvent.objects.count() == before


# --- Test sets and evaluations -----------------------------------------------------------


def test_uploading_a_test_set_through_the_api(owner, owner_api):
    data = {
        "file": upload(b"a,b,target\n1,2,0\n3,4,1\n5,6,0\n", "t.csv"),
        "name": "tiny",
        "task": "classification",
        "target_column": "target",
    }

    assert owner_api.post(f"{API}/test-sets/", data, format="multipart").status_code == 201

    event = the_event()
    assert (event.action, event.actor, event.to_status) == ("test_set.create", owner, "public")
    assert (event.data["test_set"], event.data["rows"]) == ("olivia/tiny", 3)


def test_requesting_an_evaluation_through_the_api(owner, reviewer, reviewer_api):
    make_version(make_model(owner), files={"model.onnx": crafted.argmax_model()}, status="published")
    test_set = make_test_set(owner)
    before = set(AuditEvent.objects.values_list("pk", flat=True))

    response = reviewer_api.post(version_url() + "evaluations/", {"test_set": "olivia/iris-test"}, format="json")

    assert response.status_code == 202, response.content
    event = AuditEvent.objects.exclude(pk__in=before).get()
    assert (event.action, event.actor, event.version_label, event.to_status) == (
        "evaluation.request",
        reviewer,
        "1.0.0",
        "queued",
    )
    assert event.data == {
        "evaluation": response.json()["id"],
        "test_set": test_set.full_name,
        "source": "model",
        "file": "model.onnx",
    }


# --- Accounts: tokens, roles, sign-up -----------------------------------------------------


def test_creating_and_revoking_a_token_on_the_tokens_page(owner, owner_client):
    owner_client.post(reverse("token-list"), {"name": "laptop CLI", "expires_in_days": "30"})
    created = the_event()
    token = ApiToken.objects.get(name="laptop CLI")
    owner_client.post(reverse("token-revoke", args=[token.pk]))
    owner_client.post(reverse("token-revoke", args=[token.pk]))  # revoked already: nothing more

    revoked = AuditEvent.objects.exclude(pk=created.pk).get()
    assert (created.action, created.actor, created.to_status) == ("token.create", owner, "active")
    assert (revoked.action, revoked.actor, revoked.from_status, revoked.to_status) == (
        "token.revoke",
        owner,
        "active",
        "revoked",
    )
    for event in (created, revoked):
        assert (event.data["token"], event.data["prefix"], event.data["user"]) == ("laptop CLI", token.prefix, "olivia")
        # Never the secret nor its hash.
        assert token.key_hash not in str(event.data)


def test_a_password_exchange_records_the_new_token_and_the_one_it_replaces(owner, api):
    credentials = {"username": "olivia", "password": "correct-horse-battery"}

    api.post(f"{API}/auth/token/", credentials, format="json")
    first = the_event()
    api.post(f"{API}/auth/token/", credentials, format="json")

    later = list(AuditEvent.objects.exclude(pk=first.pk).order_by("pk"))
    assert [(e.action, e.actor, e.data["token"]) for e in [first, *later]] == [
        ("token.create", owner, "password exchange"),
        ("token.revoke", owner, "password exchange"),
        ("token.create", owner, "password exchange"),
    ]
    assert later[0].data["prefix"] == first.data["prefix"] != later[1].data["prefix"]


def test_granting_and_revoking_a_role_at_the_command_line(outsider):
    call_command("grant_role", "oscar", "reviewer")
    call_command("grant_role", "oscar", "reviewer")  # held already: nothing more
    call_command("grant_role", "oscar", "reviewer", "--revoke")

    events = list(AuditEvent.objects.order_by("pk"))
    assert [(e.action, e.actor, e.actor_username, e.from_status, e.to_status, e.data) for e in events] == [
        ("role.grant", None, "", "", "reviewer", {"user": "oscar", "role": "reviewer"}),
        ("role.revoke", None, "", "reviewer", "", {"user": "oscar", "role": "reviewer"}),
    ]
    assert not is_reviewer(outsider)


def test_a_staff_grant_names_the_granter(outsider, superuser):
    role_grant(user=outsider, role=Role.STAFF, actor=superuser)

    event = the_event()
    assert (event.action, event.actor, event.to_status, event.data["user"]) == (
        "role.grant",
        superuser,
        "staff",
        "oscar",
    )


def test_signing_up(client):
    form = {
        "username": "nadia",
        "email": "nadia@example.com",
        "password1": "a-long-passphrase-9",
        "password2": "a-long-passphrase-9",
    }

    assert client.post(reverse("signup"), form).status_code == 302

    event = the_event()
    assert (event.action, event.actor_username, event.data) == ("user.create", "nadia", {"user": "nadia"})


# --- Aliases -----------------------------------------------------------------------------


def test_setting_and_deleting_an_alias_through_the_api(owner, owner_api):
    model = make_model(owner)
    make_version(model, "1.0.0", status="published")
    AuditEvent._base_manager.all().delete()  # the factory's review steps are recorded; start clean
    alias = model_url() + "aliases/production/"

    assert owner_api.put(alias, {"version": "1.0.0"}, format="json", **CHROME).status_code == 201

    event = the_event()
    assert (event.action, event.actor, event.model_full_name, event.version_label) == (
        "alias.set", owner, "olivia/iris-classifier", "1.0.0",
    )  # fmt: skip
    assert event.data["alias"] == "production" and (event.data["from"], event.data["to"]) == (None, "1.0.0")
    assert (event.ip_address, event.user_agent) == ("198.51.100.7", "Mozilla/5.0 (AuditTest)")
    AuditEvent._base_manager.all().delete()

    assert owner_api.delete(alias, **CHROME).status_code == 204
    assert the_event().action == "alias.deleted"
