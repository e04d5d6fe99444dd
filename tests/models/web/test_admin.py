"""The admin site is no way around the rules: a submitted or published version's files
(path and blob, pinned by approval) are read-only there and cannot be added or removed; a
model's tags and visibility change through model_update (search fields in step, the change
audited), and a model or a benchmark changed there is audited like anywhere else.

The forms are posted the way a browser would: every field of the page, as it rendered it."""

from html.parser import HTMLParser

import pytest
from django.test import Client

from evaluations_app.models import TestSet
from models_app.models import Blob, ModelFile, ModelVersion, RegisteredModel, Tag
from reviews_app.models import AuditEvent
from tests.evaluations.web.conftest import make_test_set
from tests.factories import make_model, make_version

pytestmark = pytest.mark.django_db
ADMIN = "/admin"


class _FormFields(HTMLParser):
    """The fields a browser would submit from the page's change form."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append((name, attrs.get("value", "on" if attrs.get("type") == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields.append((self._select, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None


def form_of(client: Client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    parser = _FormFields()
    parser.feed(response.text)
    data: dict = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data


def post(client: Client, url: str, data: dict):
    response = client.post(url, data)
    assert response.status_code in (200, 302), response.status_code
    return response


@pytest.fixture
def admin_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def published(owner) -> ModelVersion:
    return make_version(make_model(owner), "1.0.0", status="published", files={"model.onnx": b"approved weights"})


def version_url(version: ModelVersion) -> str:
    return f"{ADMIN}/models_app/modelversion/{version.pk}/change/"


def file_url(model_file: ModelFile, action: str = "change") -> str:
    return f"{ADMIN}/models_app/modelfile/{model_file.pk}/{action}/"


# --- A published version's files ------------------------------------------------------------


def test_a_published_versions_page_shows_its_files_read_only_with_nothing_to_add_or_delete(admin_client, published):
    fields = form_of(admin_client, version_url(published))

    assert fields["files-TOTAL_FORMS"] == ["1"]
    assert not [
        name for name in fields if name.startswith("files-0-") and name not in ("files-0-id", "files-0-version")
    ]
    assert "files-0-DELETE" not in fields
    assert fields["files-MAX_NUM_FORMS"] == ["0"]  # no row can be added


def test_a_forged_post_cannot_delete_or_change_a_published_file(admin_client, published):
    model_file = published.files.get()
    before = (model_file.path, model_file.sha256, model_file.scan_status)
    data = form_of(admin_client, version_url(published))
    data.update({"files-0-DELETE": "on", "files-0-path": "evil.onnx", "files-0-scan_status": "flagged"})
    data.update({"changelog": "Rewritten after approval."})

    # The page is view-only: a post is refused outright.
    assert admin_client.post(version_url(published), data).status_code == 403

    model_file.refresh_from_db()
    assert (model_file.path, model_file.sha256, model_file.scan_status) == before
    published.refresh_from_db()
    assert published.changelog == ""


def test_a_forged_inline_row_cannot_add_a_file_to_a_published_version(admin_client, published, owner):
    other = make_version(make_model(owner, "other"), files={"other.onnx": b"other weights"}).files.get()
    data = form_of(admin_client, version_url(published))
    data.update({"files-TOTAL_FORMS": "2", "files-1-path": "smuggled.onnx", "files-1-blob": other.sha256})

    admin_client.post(version_url(published), data)

    assert list(published.files.values_list("path", flat=True)) == ["model.onnx"]


def test_the_file_admin_refuses_to_change_add_or_delete_a_published_file(admin_client, published):
    model_file = published.files.get()
    before = (model_file.path, model_file.blob_id, model_file.scan_status)
    other_blob = Blob.objects.create(sha256="cd" * 32, size=3)
    data = form_of(admin_client, file_url(model_file))
    assert not {"path", "blob", "version", "scan_status"} & set(data)
    data.update({"path": "evil.onnx", "blob": other_blob.sha256, "scan_status": "flagged"})

    admin_client.post(file_url(model_file), data)

    assert admin_client.post(file_url(model_file, "delete"), {"post": "yes"}).status_code == 403
    assert admin_client.get(f"{ADMIN}/models_app/modelfile/add/").status_code == 403
    model_file.refresh_from_db()
    assert (model_file.path, model_file.blob_id, model_file.scan_status) == before


def test_the_bulk_delete_action_refuses_published_files(admin_client, published):
    model_file = published.files.get()

    response = admin_client.post(
        f"{ADMIN}/models_app/modelfile/",
        {"action": "delete_selected", "_selected_action": [model_file.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert ModelFile.objects.filter(pk=model_file.pk).exists()


def test_a_published_version_cannot_be_deleted_nor_its_model(admin_client, published):
    assert (
        admin_client.post(f"{ADMIN}/models_app/modelversion/{published.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    model = published.model
    assert (
        admin_client.post(f"{ADMIN}/models_app/registeredmodel/{model.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert ModelVersion.objects.filter(pk=published.pk).exists()


def test_a_drafts_file_deleted_in_the_admin_goes_through_file_delete(admin_client, owner):
    draft = make_version(make_model(owner), files={"a.onnx": b"a", "b.onnx": b"b"})
    data = form_of(admin_client, version_url(draft))
    index = next(i for i in (0, 1) if data[f"files-{i}-id"] == [str(draft.files.get(path="a.onnx").pk)])
    data[f"files-{index}-DELETE"] = "on"

    post(admin_client, version_url(draft), data)

    assert list(draft.files.values_list("path", flat=True)) == ["b.onnx"]


# --- A model's tags, visibility and deletion ------------------------------------------------


def model_url(model: RegisteredModel, action: str = "change") -> str:
    return f"{ADMIN}/models_app/registeredmodel/{model.pk}/{action}/"


def test_tags_edited_in_the_admin_keep_the_search_text_in_step(admin_client, owner):
    model = make_model(owner, tags=["iris", "tabular"])
    botany = Tag.objects.create(name="botany")
    data = form_of(admin_client, model_url(model))
    data["tags"] = [str(botany.pk), str(Tag.objects.get(name="iris").pk)]

    post(admin_client, model_url(model), data)

    model.refresh_from_db()
    assert sorted(model.tags.values_list("name", flat=True)) == ["botany", "iris"]
    assert sorted(model.tags_text.split()) == ["botany", "iris"]


def test_a_visibility_change_in_the_admin_is_audited(admin_client, owner, superuser):
    model = make_model(owner)
    data = form_of(admin_client, model_url(model))
    data["visibility"] = "private"

    post(admin_client, model_url(model), data)

    event = AuditEvent.objects.get(action="model.visibility")
    assert (event.actor, event.from_status, event.to_status) == (superuser, "public", "private")
    assert RegisteredModel.objects.get(pk=model.pk).visibility == "private"


def test_too_many_tags_are_a_form_error_not_a_500(admin_client, owner):
    model = make_model(owner)
    tags = [Tag.objects.create(name=f"tag-{n}") for n in range(21)]
    data = form_of(admin_client, model_url(model))
    data["tags"] = [str(tag.pk) for tag in tags]

    response = post(admin_client, model_url(model), data)

    assert response.status_code == 200 and "at most 20 tags" in response.text
    assert model.tags.count() == 2


def test_a_model_deleted_in_the_admin_goes_through_model_delete(admin_client, owner, superuser):
    model = make_model(owner)
    make_version(model, "1.0.0")

    post(admin_client, model_url(model, "delete"), {"post": "yes"})

    assert not RegisteredModel.objects.filter(pk=model.pk).exists()
    event = AuditEvent.objects.get(action="model.delete")
    assert (event.actor, event.model_full_name) == (superuser, "olivia/iris-classifier")


def test_a_tag_deleted_in_the_admin_leaves_its_models_search_text(admin_client, owner):
    model = make_model(owner, tags=["iris", "tabular"])
    tag = Tag.objects.get(name="tabular")

    post(admin_client, f"{ADMIN}/models_app/tag/{tag.pk}/delete/", {"post": "yes"})

    model.refresh_from_db()
    assert (list(model.tags.values_list("name", flat=True)), model.tags_text) == (["iris"], "iris")


# --- A benchmark marked in the admin ------------------------------------------------------


def test_a_benchmark_marked_in_the_admin_is_audited(admin_client, owner, superuser):
    test_set = make_test_set(owner)
    url = f"{ADMIN}/evaluations_app/testset/{test_set.pk}/change/"
    data = form_of(admin_client, url)
    assert not {"task", "target_column"} & set(data)  # what the arrays were derived with
    data.update({"benchmark": "on", "regression_threshold": "0.05"})

    post(admin_client, url, data)

    test_set = TestSet.objects.get(pk=test_set.pk)
    assert (test_set.benchmark, test_set.regression_threshold) == (True, 0.05)
    events = {e.action: e for e in AuditEvent.objects.all()}
    assert set(events) == {"test_set.mark_benchmark", "test_set.regression_threshold"}
    assert all(e.actor == superuser and e.data["test_set"] == "olivia/iris-test" for e in events.values())
