"""Who sees what: anonymous and outsiders see published/deprecated versions of public
models; private models are 404 for them; owners see drafts; staff see everything."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_sees_only_published_versions_of_public_model(client, public_model):
    response = client.get(public_model.get_absolute_url())
    assert [v.version for v in response.context["versions"]] == ["1.0.0"]
    assert b"draft.bin" not in response.content
    assert client.get(reverse("version-detail", args=["olivia", "iris-classifier", "1.1.0"])).status_code == 404


def test_outsider_sees_only_published_versions_of_public_model(outsider_client, public_model):
    response = outsider_client.get(reverse("version-list", args=["olivia", "iris-classifier"]))
    assert [v.version for v in response.context["versions"]] == ["1.0.0"]
    draft_file = reverse("file-download", args=["olivia", "iris-classifier", "1.1.0", "draft.bin"])
    assert outsider_client.get(draft_file).status_code == 404


def test_owner_sees_drafts_on_model_page(owner_client, public_model):
    response = owner_client.get(public_model.get_absolute_url())
    assert [v.version for v in response.context["versions"]] == ["1.1.0", "1.0.0"]
    assert b"badge-draft" in response.content


def test_outsider_gets_404_for_private_model_page(outsider_client, client, private_model):
    for viewer in (outsider_client, client):
        for url in (
            reverse("model-detail", args=["olivia", "secret-model"]),
            reverse("version-list", args=["olivia", "secret-model"]),
            reverse("version-detail", args=["olivia", "secret-model", "0.1.0"]),
            reverse("file-download", args=["olivia", "secret-model", "0.1.0", "w.bin"]),
        ):
            response = viewer.get(url)
            assert response.status_code == 404, url
            assert b"Nobody else sees this" not in response.content


def test_private_model_is_absent_from_catalog_for_outsider(outsider_client, private_model, public_model):
    names = [m.name for m in outsider_client.get(reverse("model-list")).context["page"].object_list]
    assert names == ["iris-classifier"]
    assert b"secret-model" not in outsider_client.get(reverse("home")).content


def test_staff_see_private_models_and_drafts(staff_client, private_model, public_model):
    assert staff_client.get(private_model.get_absolute_url()).status_code == 200
    response = staff_client.get(public_model.get_absolute_url())
    assert [v.version for v in response.context["versions"]] == ["1.1.0", "1.0.0"]
    names = {m.name for m in staff_client.get(reverse("model-list")).context["page"].object_list}
    assert names == {"iris-classifier", "secret-model"}


def test_outsider_gets_403_on_owner_pages_of_a_public_model(outsider_client, public_model):
    args = ["olivia", "iris-classifier"]
    for url in (
        reverse("model-edit", args=args),
        reverse("model-delete", args=args),
        reverse("version-create", args=args),
        reverse("file-remove", args=[*args, "1.0.0"]) + "?path=model.onnx",
    ):
        assert outsider_client.get(url).status_code == 403, url
    response = outsider_client.post(reverse("model-edit", args=args), {"task": "other"})
    assert response.status_code == 403
    public_model.refresh_from_db()
    assert public_model.task == "tabular-classification"


def test_outsider_gets_404_on_owner_pages_of_a_private_model(outsider_client, private_model):
    for name in ("model-edit", "model-delete", "version-create"):
        assert outsider_client.get(reverse(name, args=["olivia", "secret-model"])).status_code == 404


def test_anonymous_is_sent_to_login_from_owner_pages(client, public_model):
    response = client.get(reverse("model-edit", args=["olivia", "iris-classifier"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.get(reverse("model-create"))
    assert response.status_code == 302
    assert client.get(reverse("token-list")).status_code == 302


def test_outsider_cannot_upload_to_someone_elses_draft(outsider_client, public_model):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("file-upload", args=["olivia", "iris-classifier", "1.1.0"])
    response = outsider_client.post(url, {"file": SimpleUploadedFile("x.bin", b"x")})
    assert response.status_code == 403
    assert public_model.versions.get(version="1.1.0").files.count() == 1
