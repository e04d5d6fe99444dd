"""The admin in Chromium: a superuser (sue) opens the admin, finds a published version named
as people name it and shown view-only (no field to edit, no delete, nothing to save), edits a
draft's changelog and a model's summary, and then reads both edits, with their from and to,
in the audit log."""

import re

import pytest
from playwright.sync_api import expect

from models_app.models import ModelVersion, RegisteredModel, VersionStatus
from reviews_app.models import AuditEvent
from tests.factories import make_model, make_version

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cast(db, owner, superuser):
    model = make_model(owner, "iris-classifier", summary="Classifies iris flowers")
    published = make_version(model, "1.0.0", status=VersionStatus.PUBLISHED, files={"model.onnx": b"approved"})
    draft = make_version(model, "1.1.0", changelog="First cut.", files={"model.onnx": b"draft weights"})
    return model, published, draft


def test_published_is_view_only_and_every_admin_edit_is_in_the_audit_log(
    page, live_server, problems, screenshot, login, cast
):
    model, published, draft = cast
    base = live_server.url
    login("sue")

    # The versions list names them as people do.
    page.goto(f"{base}/admin/")
    page.get_by_role("link", name="Model versions").click()
    expect(page.get_by_role("link", name="olivia/iris-classifier 1.0.0", exact=True)).to_be_visible()
    screenshot("admin-version-list")

    # The published version: a view-only page, nothing to edit, save or delete.
    page.get_by_role("link", name="olivia/iris-classifier 1.0.0", exact=True).click()
    expect(page.locator("h1")).to_contain_text("View model version")
    form = page.locator("#modelversion_form")
    expect(form.locator("textarea, select, input:not([type=hidden])")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete")).to_have_count(0)
    expect(page.locator("input[name=_save], input[name=_continue]")).to_have_count(0)
    expect(page.locator(".inline-group")).to_contain_text("model.onnx")
    screenshot("admin-published-version")

    # The draft: its changelog is edited, through version_update.
    page.goto(f"{base}/admin/models_app/modelversion/")
    page.get_by_role("link", name="olivia/iris-classifier 1.1.0", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Change model version")
    page.fill("#id_changelog", "Petals measured twice.")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()

    # The model's summary.
    page.goto(f"{base}/admin/models_app/registeredmodel/{model.pk}/change/")
    expect(page.locator("#id_name")).to_have_count(0)  # its address is not edited here
    page.fill("#id_summary", "Classifies iris flowers from four measurements")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()

    assert ModelVersion.objects.get(pk=draft.pk).changelog == "Petals measured twice."
    # The model is released, so the edit waits for review like the owner's would.
    edited = RegisteredModel.objects.get(pk=model.pk)
    assert edited.summary == "Classifies iris flowers"
    assert edited.pending_card == {"summary": "Classifies iris flowers from four measurements"}
    assert ModelVersion.objects.get(pk=published.pk).changelog == ""

    # The audit log (staff only) lists both edits, newest first, with sue as the actor.
    page.goto(f"{base}/audit/")
    rows = page.locator("table.audit-table tbody tr")
    expect(rows.first).to_contain_text("model.update")
    model_row = rows.filter(has_text="model.update")
    expect(model_row).to_have_count(1)
    expect(model_row).to_contain_text("sue")
    expect(model_row).to_contain_text("olivia/iris-classifier")
    expect(model_row.locator(".audit-change")).to_contain_text(
        re.compile(r"summary\s+Classifies iris flowers\s+→\s+Classifies iris flowers from four measurements")
    )
    version_row = rows.filter(has_text="version.update")
    expect(version_row).to_have_count(1)
    expect(version_row).to_contain_text("sue")
    expect(version_row.get_by_role("link", name="olivia/iris-classifier 1.1.0")).to_be_visible()
    expect(version_row.locator(".audit-change")).to_contain_text(
        re.compile(r"changelog\s+First cut\.\s+→\s+Petals measured twice\.")
    )
    screenshot("audit-log-after-admin-edits")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("audit-log-after-admin-edits-phone")

    events = AuditEvent.objects.filter(action__in=["model.update", "version.update"])
    assert sorted((e.action, e.actor_username, e.data["via"]) for e in events) == [
        ("model.update", "sue", "admin"),
        ("version.update", "sue", "admin"),
    ]
    assert not AuditEvent.objects.filter(action__startswith="admin.").exists()  # no second record of either
