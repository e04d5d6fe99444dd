"""The alias pages: the model page's section and form, the version badges, the history page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from models_app import aliases as alias_services
from models_app.aliases import alias_set
from models_app.models import AliasChange, ModelAlias, VersionStatus
from reviews_app import services as review_services
from tests.factories import make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(public_model):
    make_version(public_model, "1.2.0", status=VersionStatus.PUBLISHED, files={"model.onnx": b"onnx 1.2"})
    return public_model  # 1.0.0 and 1.2.0 published, 1.1.0 a draft


def _set_url(model):
    return reverse("alias-set", args=[model.owner.username, model.name])


def _history_url(model, alias="production"):
    return reverse("alias-history", args=[model.owner.username, model.name, alias])


def _delete_url(model, alias="production"):
    return reverse("alias-delete", args=[model.owner.username, model.name, alias])


def test_the_model_page_lists_the_aliases_for_anyone(client, model, owner):
    alias_set(model=model, name="production", version=model.versions.get(version="1.0.0"), actor=owner)
    page = client.get(model.get_absolute_url()).content.decode()
    assert 'data-alias="production"' in page and "v1.0.0" in page
    assert _history_url(model) in page
    assert f'action="{_set_url(model)}"' not in page and _delete_url(model) not in page  # no form for visitors


def test_the_owner_sets_an_alias_from_the_model_page(owner_client, model):
    page = owner_client.get(model.get_absolute_url()).content.decode()
    assert f'action="{_set_url(model)}"' in page
    assert '<option value="1.1.0"' not in page  # a draft is never offered
    assert 'name="protection"' not in page  # only reviewers see the protection choice
    response = owner_client.post(_set_url(model), {"name": "production", "version": "1.2.0"}, follow=True)
    assert response.redirect_chain[-1][0].endswith("#aliases")
    assert "@production now points at 1.2.0" in response.content.decode()
    assert ModelAlias.objects.get().version.version == "1.2.0"


def test_the_form_shows_the_services_refusal(owner_client, model):
    response = owner_client.post(_set_url(model), {"name": "latest", "version": "1.2.0"}, follow=True)
    assert "reserved" in response.content.decode()
    response = owner_client.post(_set_url(model), {"name": "production", "version": "1.1.0"}, follow=True)
    assert "Select a valid choice" in response.content.decode()  # the draft is not a choice
    assert not ModelAlias.objects.exists()


def test_a_reviewer_protects_and_the_owner_then_cannot_move_it(owner_client, reviewer_client, model, owner):
    alias_set(model=model, name="production", version=model.versions.get(version="1.0.0"), actor=owner)
    assert 'name="protection"' in reviewer_client.get(model.get_absolute_url()).content.decode()
    reviewer_client.post(_set_url(model), {"name": "production", "version": "1.0.0", "protection": "yes"})
    assert ModelAlias.objects.get().protected
    page = owner_client.get(model.get_absolute_url()).content.decode()
    assert "data-protected" in page and _delete_url(model) not in page
    response = owner_client.post(_set_url(model), {"name": "production", "version": "1.2.0"}, follow=True)
    assert "only a reviewer" in response.content.decode()
    assert ModelAlias.objects.get().version.version == "1.0.0"
    owner_client.post(_delete_url(model))
    assert ModelAlias.objects.exists()


def test_the_owner_deletes_an_alias(owner_client, model, owner):
    alias_set(model=model, name="staging", version=model.versions.get(version="1.0.0"), actor=owner)
    response = owner_client.post(_delete_url(model, "staging"), follow=True)
    assert "Deleted @staging" in response.content.decode()
    assert not ModelAlias.objects.exists()
    assert AliasChange.objects.filter(action="deleted").exists()


def test_an_outsider_gets_403_and_anonymous_the_login(client, outsider_client, model, owner):
    alias_set(model=model, name="production", version=model.versions.get(version="1.0.0"), actor=owner)
    assert outsider_client.post(_set_url(model), {"name": "production", "version": "1.2.0"}).status_code == 403
    assert outsider_client.post(_delete_url(model)).status_code == 403
    response = client.post(_set_url(model), {"name": "production", "version": "1.2.0"})
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert ModelAlias.objects.get().version.version == "1.0.0"


def test_a_private_models_alias_pages_are_404_to_others(client, outsider_client, owner_client, private_model, owner):
    alias_set(model=private_model, name="production", version=private_model.versions.get(), actor=owner)
    for viewer in (client, outsider_client):
        assert viewer.get(_history_url(private_model)).status_code == 404
        assert viewer.get(reverse("version-detail", args=["olivia", "secret-model", "@production"])).status_code == 404
    assert outsider_client.post(_set_url(private_model), {"name": "x", "version": "0.1.0"}).status_code == 404
    assert owner_client.get(_history_url(private_model)).status_code == 200


def test_the_version_page_shows_its_aliases_and_warns_when_deprecated(client, owner_client, model, owner):
    v1 = model.versions.get(version="1.0.0")
    alias_set(model=model, name="production", version=v1, actor=owner)
    url = reverse("version-detail", args=["olivia", "iris-classifier", "1.0.0"])
    page = client.get(url).content.decode()
    assert 'data-alias="production"' in page and "data-alias-warning" not in page
    review_services.version_deprecate(version=v1, actor=owner, reason="Leaks memory.")
    page = client.get(url).content.decode()
    assert "data-alias-warning" in page and "production" in page
    assert "data-alias-deprecated" in client.get(model.get_absolute_url()).content.decode()


def test_the_version_page_and_downloads_take_an_alias(client, model, owner):
    alias_set(model=model, name="production", version=model.versions.get(version="1.2.0"), actor=owner)
    response = client.get(reverse("version-detail", args=["olivia", "iris-classifier", "@production"]))
    assert response.status_code == 200 and response.context["version"].version == "1.2.0"
    download = client.get(reverse("file-download", args=["olivia", "iris-classifier", "@production", "model.onnx"]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"onnx 1.2"


def test_the_history_page_shows_the_timeline_and_answers_a_date(client, model, owner, monkeypatch):
    t0 = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=10)
    monkeypatch.setattr(alias_services.timezone, "now", lambda: t0)
    alias_set(model=model, name="production", version=model.versions.get(version="1.0.0"), actor=owner)
    monkeypatch.setattr(alias_services.timezone, "now", lambda: t0 + timedelta(days=3))
    alias_set(model=model, name="production", version=model.versions.get(version="1.2.0"), actor=owner)
    monkeypatch.undo()
    page = client.get(_history_url(model)).content.decode()
    assert page.count("data-change=") == 2 and page.index('data-change="moved"') < page.index('data-change="set"')
    day = (t0 + timedelta(days=1)).date().isoformat()
    answer = client.get(_history_url(model), {"date": day}).content.decode()
    assert "data-at-answer" in answer and "v1.0.0" in answer.split("data-at-answer")[1].split("</p>")[0]
    before = client.get(_history_url(model), {"date": (t0 - timedelta(days=1)).date().isoformat()}).content.decode()
    assert "pointed nowhere" in before
    bad = client.get(_history_url(model), {"date": "not-a-date"})
    assert bad.status_code == 200 and "Enter a valid date" in bad.content.decode()


def test_an_alias_never_set_is_404_and_a_deleted_one_keeps_its_page(client, owner_client, model, owner):
    assert client.get(_history_url(model, "nothing")).status_code == 404
    alias_set(model=model, name="staging", version=model.versions.get(version="1.0.0"), actor=owner)
    owner_client.post(_delete_url(model, "staging"))
    page = client.get(_history_url(model, "staging"))
    assert page.status_code == 200 and "data-alias-gone" in page.content.decode()


def test_a_reviewer_is_offered_the_delete_of_protected_aliases_only(reviewer_client, model, owner, reviewer):
    alias_set(model=model, name="staging", version=model.versions.get(version="1.0.0"), actor=owner)
    alias_set(model=model, name="production", version=model.versions.get(version="1.0.0"), actor=owner)
    alias_set(
        model=model, name="production", version=model.versions.get(version="1.0.0"), actor=reviewer, protected=True
    )
    page = reviewer_client.get(model.get_absolute_url()).content.decode()
    assert _delete_url(model, "production") in page and _delete_url(model, "staging") not in page
