"""Small things a user notices (issue 9): names as people say them, a task that is chosen,
banners in plain grammar, no notification of one's own action, a favicon."""

from django.contrib import admin
from django.urls import reverse

from models_app.models import ModelVersion
from reviews_app import services as review_services
from reviews_app.models import Notification
from tests.factories import make_model, make_version


def test_a_version_is_named_owner_model_and_version(owner):
    version = make_version(make_model(owner, "iris-classifier"), "1.1.0")
    assert str(ModelVersion.objects.get(pk=version.pk)) == "olivia/iris-classifier 1.1.0"
    assert admin.site.is_registered(ModelVersion)


def test_the_task_has_no_default_and_must_be_chosen(owner_client):
    page = owner_client.get(reverse("model-create")).content.decode()
    assert '<option value="" selected>Choose a task…</option>' in page
    response = owner_client.post(
        reverse("model-create"), {"name": "untasked", "framework": "onnx", "license": "MIT", "visibility": "public"}
    )
    assert response.status_code == 200
    assert "task" in response.context["form"].errors


def test_the_owner_banner_reads_as_a_sentence_after_changes_were_requested(owner, owner_client, reviewer):
    version = make_version(make_model(owner), "1.0.0", status="changes_requested")
    url = reverse("version-detail", kwargs={"owner": "olivia", "name": version.model.name, "version": "1.0.0"})
    page = owner_client.get(url).content.decode()
    assert "asked for changes" in page
    assert "This version is a <strong>changes requested" not in page


def test_nobody_is_notified_of_their_own_deprecation(owner, reviewer):
    version = make_version(make_model(owner), "1.0.0", status="published")
    before = Notification.objects.filter(user=owner).count()
    review_services.version_deprecate(version=version, actor=owner, reason="Superseded by 2.0.0.")
    assert Notification.objects.filter(user=owner).count() == before


def test_staff_deprecating_a_version_tells_its_owner(owner, staff):
    version = make_version(make_model(owner), "1.0.0", status="published")
    review_services.version_deprecate(version=version, actor=staff, reason="Broken file.")
    assert Notification.objects.filter(user=owner, verb="deprecated").count() == 1


def test_favicon_ico_points_at_the_site_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/logo.svg")


def test_a_task_the_registry_cannot_evaluate_says_so_instead_of_waiting(owner, owner_client):
    model = make_model(owner, "outliers", task="anomaly-detection")
    make_version(model, "1.0.0", files={"README.md": b"# Outliers"})
    url = reverse("version-detail", kwargs={"owner": "olivia", "name": "outliers", "version": "1.0.0"})
    page = owner_client.get(url).content.decode()
    assert "The registry cannot evaluate anomaly detection models yet" in page
    assert "No evaluation has finished yet" not in page


def test_the_urlconf_loads_without_collected_static_files(settings):
    """A worker runs with the manifest storage and no collectstatic: nothing in the URLconf
    may look up a static file's hashed name at import (it broke every URL reverse there)."""
    import importlib

    from django.urls import clear_url_caches

    import registry_site.urls

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    try:
        importlib.reload(registry_site.urls)
    finally:
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        importlib.reload(registry_site.urls)
        clear_url_caches()
