"""Aliases: who may move them, what they may point at, their history and its side effects."""

from datetime import timedelta

import pytest
from django.utils import timezone

from models_app import aliases as alias_services
from models_app import services
from models_app.aliases import alias_delete, alias_history, alias_list, alias_resolve, alias_set
from models_app.models import AliasChange, ModelAlias, VersionStatus
from models_app.signals import alias_moved
from registry_site.errors import DomainError, Forbidden, NotFound
from reviews_app import services as review_services
from reviews_app.models import AuditEvent, Notification
from tests.factories import make_model, make_released_model, make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(owner):
    return make_released_model(owner)  # 1.0.0 published


@pytest.fixture
def v1(model):
    return model.versions.get(version="1.0.0")


@pytest.fixture
def v2(model):
    return make_version(model, "1.1.0", status=VersionStatus.PUBLISHED)


@pytest.fixture
def moves():
    """The alias_moved signals sent, as (kwargs) dicts."""
    sent = []

    def receiver(sender, **kwargs):
        sent.append({k: v for k, v in kwargs.items() if k != "signal"})

    alias_moved.connect(receiver, weak=False)
    yield sent
    alias_moved.disconnect(receiver)


def _clock(monkeypatch, moment):
    monkeypatch.setattr(alias_services.timezone, "now", lambda: moment)


# --- Setting and moving ---


def test_the_owner_sets_an_alias_and_it_resolves(model, v1, owner):
    alias = alias_set(model=model, name="production", version=v1, actor=owner)
    assert (alias.name, alias.version, alias.protected, alias.updated_by) == ("production", v1, False, owner)
    assert alias_resolve(model=model, name="production") == v1
    assert [a.name for a in alias_list(model)] == ["production"]


def test_a_name_is_stored_lowercased_and_trimmed(model, v1, owner):
    assert alias_set(model=model, name=" Staging ", version=v1, actor=owner).name == "staging"
    assert alias_resolve(model=model, name="STAGING") == v1


@pytest.mark.parametrize("name", ["", "-x", "a b", "../x", "x" * 64, "prod.1", "prоd", "a\x00"])
def test_it_refuses_unusable_names(model, v1, owner, name):
    with pytest.raises(DomainError) as error:
        alias_set(model=model, name=name, version=v1, actor=owner)
    assert error.value.code == "invalid_alias"
    assert not ModelAlias.objects.exists() and not AliasChange.objects.exists()


@pytest.mark.parametrize("name", ["latest", "Latest", "v1", "v20"])
def test_it_refuses_reserved_names(model, v1, owner, name):
    with pytest.raises(DomainError) as error:
        alias_set(model=model, name=name, version=v1, actor=owner)
    assert error.value.code == "alias_reserved"


def test_v_followed_by_letters_is_an_ordinary_name(model, v1, owner):
    assert alias_set(model=model, name="v1-candidate", version=v1, actor=owner).name == "v1-candidate"


@pytest.mark.parametrize(
    "status",
    [VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.CHANGES_REQUESTED, VersionStatus.REJECTED],
)
def test_an_alias_never_points_at_an_unpublished_version(model, owner, status):
    version = make_version(model, "2.0.0", status=status)
    with pytest.raises(DomainError) as error:
        alias_set(model=model, name="production", version=version, actor=owner)
    assert error.value.code == "version_not_published"
    assert version.get_status_display().lower() in error.value.detail
    assert not ModelAlias.objects.exists()


def test_it_refuses_a_deprecated_version(model, v1, owner):
    review_services.version_deprecate(version=v1, actor=owner, reason="Leaks memory.")
    with pytest.raises(DomainError) as error:
        alias_set(model=model, name="production", version=v1, actor=owner)
    assert error.value.code == "version_not_published"


def test_it_refuses_a_version_of_another_model(model, owner):
    other = make_released_model(owner, "other-model")
    with pytest.raises(DomainError) as error:
        alias_set(model=model, name="production", version=other.versions.get(), actor=owner)
    assert error.value.code == "version_not_in_model"


def test_an_outsider_and_a_reviewer_cannot_set_an_unprotected_alias(model, v1, outsider, reviewer, staff):
    for user in (outsider, reviewer, staff, None):
        with pytest.raises(Forbidden):
            alias_set(model=model, name="staging", version=v1, actor=user)
    assert not ModelAlias.objects.exists()


def test_moving_an_alias_records_from_and_to(model, v1, v2, owner):
    alias_set(model=model, name="production", version=v1, actor=owner)
    alias_set(model=model, name="production", version=v2, actor=owner)
    assert alias_resolve(model=model, name="production") == v2
    history = list(alias_history(model=model, name="production"))
    assert [(c.action, c.from_label, c.to_label) for c in history] == [
        ("moved", "1.0.0", "1.1.0"),
        ("set", "", "1.0.0"),
    ]
    assert history[0].actor == owner and history[0].actor_username == "olivia"


def test_setting_the_same_version_again_changes_nothing(model, v1, owner, moves, django_capture_on_commit_callbacks):
    alias_set(model=model, name="production", version=v1, actor=owner)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        alias_set(model=model, name="production", version=v1, actor=owner)
    assert callbacks == [] and moves == []
    assert AliasChange.objects.count() == 1
    assert AuditEvent.objects.filter(action__startswith="alias.").count() == 1


# --- Protected aliases ---


def test_only_a_reviewer_protects_an_alias(model, v1, owner, reviewer):
    alias_set(model=model, name="production", version=v1, actor=owner)
    with pytest.raises(Forbidden) as error:
        alias_set(model=model, name="production", version=v1, actor=owner, protected=True)
    assert error.value.code == "alias_protected"
    alias = alias_set(model=model, name="production", version=v1, actor=reviewer, protected=True)
    assert alias.protected
    assert [c.action for c in alias_history(model=model, name="production")] == ["protected", "set"]


def test_the_owner_cannot_create_a_protected_alias(model, v1, owner):
    with pytest.raises(Forbidden) as error:
        alias_set(model=model, name="production", version=v1, actor=owner, protected=True)
    assert error.value.code == "alias_protected"
    assert not ModelAlias.objects.exists()


def test_a_protected_alias_moves_only_by_a_reviewer(model, v1, v2, owner, reviewer):
    alias_set(model=model, name="production", version=v1, actor=owner)
    alias_set(model=model, name="production", version=v1, actor=reviewer, protected=True)
    with pytest.raises(Forbidden) as error:
        alias_set(model=model, name="production", version=v2, actor=owner)
    assert error.value.code == "alias_protected"
    with pytest.raises(Forbidden):
        alias_delete(model=model, name="production", actor=owner)
    assert alias_resolve(model=model, name="production") == v1
    alias_set(model=model, name="production", version=v2, actor=reviewer)
    assert alias_resolve(model=model, name="production") == v2
    assert ModelAlias.objects.get().protected  # moving keeps the flag


def test_moving_and_unprotecting_at_once_records_both(model, v1, v2, owner, reviewer):
    alias_set(model=model, name="production", version=v1, actor=owner)
    alias_set(model=model, name="production", version=v1, actor=reviewer, protected=True)
    alias_set(model=model, name="production", version=v2, actor=reviewer, protected=False)
    actions = [c.action for c in alias_history(model=model, name="production")]
    assert actions == ["unprotected", "moved", "protected", "set"]
    # and the owner may move it again
    alias_set(model=model, name="production", version=v1, actor=owner)


def test_staff_are_not_reviewers_for_aliases(model, v1, owner, staff):
    alias_set(model=model, name="production", version=v1, actor=owner)
    with pytest.raises(Forbidden):
        alias_set(model=model, name="production", version=v1, actor=staff, protected=True)


# --- Deleting ---


def test_deleting_keeps_the_history(model, v1, owner):
    alias_set(model=model, name="staging", version=v1, actor=owner)
    alias_delete(model=model, name="staging", actor=owner)
    assert not ModelAlias.objects.exists()
    with pytest.raises(NotFound):
        alias_resolve(model=model, name="staging")
    assert [(c.action, c.from_label, c.to_label) for c in alias_history(model=model, name="staging")] == [
        ("deleted", "1.0.0", ""),
        ("set", "", "1.0.0"),
    ]


def test_deleting_a_missing_alias_is_not_found(model, owner):
    with pytest.raises(NotFound) as error:
        alias_delete(model=model, name="nope", actor=owner)
    assert error.value.code == "alias_not_found"


def test_an_outsider_cannot_delete(model, v1, owner, outsider):
    alias_set(model=model, name="staging", version=v1, actor=owner)
    with pytest.raises(Forbidden):
        alias_delete(model=model, name="staging", actor=outsider)
    assert ModelAlias.objects.exists()


# --- History at an instant ---


def test_history_answers_what_an_alias_pointed_at_on_an_instant(model, v1, v2, owner, monkeypatch):
    t0 = timezone.now()
    _clock(monkeypatch, t0)
    alias_set(model=model, name="production", version=v1, actor=owner)
    _clock(monkeypatch, t0 + timedelta(days=2))
    alias_set(model=model, name="production", version=v2, actor=owner)
    _clock(monkeypatch, t0 + timedelta(days=4))
    alias_delete(model=model, name="production", actor=owner)

    def at(offset):
        return alias_history(model=model, name="production", at=t0 + offset)

    assert at(timedelta(seconds=-1)) is None  # before it existed
    assert at(timedelta(0)) == v1  # the instant of the change counts
    assert at(timedelta(days=1)) == v1
    assert at(timedelta(days=2, hours=1)) == v2
    assert at(timedelta(days=5)) is None  # deleted since
    assert alias_history(model=model, name="never", at=t0) is None


# --- Side effects ---


def test_each_change_is_one_audit_event(model, v1, v2, owner, reviewer):
    alias_set(model=model, name="production", version=v1, actor=owner)
    alias_set(model=model, name="production", version=v2, actor=owner)
    alias_set(model=model, name="production", version=v2, actor=reviewer, protected=True)
    alias_delete(model=model, name="production", actor=reviewer)
    events = list(AuditEvent.objects.filter(action__startswith="alias.").order_by("pk"))
    assert [e.action for e in events] == ["alias.set", "alias.moved", "alias.protected", "alias.deleted"]
    assert [e.actor_username for e in events] == ["olivia", "olivia", "rita", "rita"]
    assert events[1].model_full_name == "olivia/iris-classifier"
    assert events[1].data["alias"] == "production"
    assert (events[1].data["from"], events[1].data["to"]) == ("1.0.0", "1.1.0")
    assert events[3].data["to"] is None and events[3].version == v2
    assert AliasChange.objects.count() == 4


def test_the_signal_is_sent_after_commit(model, v1, v2, owner, moves, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alias_set(model=model, name="production", version=v1, actor=owner)
    assert moves == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert moves == [
        {
            "model_id": model.pk,
            "alias": "production",
            "from_version_id": None,
            "to_version_id": v1.pk,
            "actor_id": owner.pk,
        }
    ]
    with django_capture_on_commit_callbacks(execute=True):
        alias_set(model=model, name="production", version=v2, actor=owner)
        alias_delete(model=model, name="production", actor=owner)
    assert [(m["from_version_id"], m["to_version_id"]) for m in moves[1:]] == [(v1.pk, v2.pk), (v2.pk, None)]


def test_a_refused_change_writes_nothing_and_sends_nothing(
    model, v1, owner, outsider, moves, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Forbidden):
            alias_set(model=model, name="production", version=v1, actor=outsider)
    assert callbacks == [] and moves == []
    assert not AliasChange.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="alias.").exists()


def test_protecting_sends_no_move(model, v1, owner, reviewer, moves, django_capture_on_commit_callbacks):
    alias_set(model=model, name="production", version=v1, actor=owner)
    with django_capture_on_commit_callbacks(execute=True):
        alias_set(model=model, name="production", version=v1, actor=reviewer, protected=True)
    assert moves == []


# --- Deprecation, rejection, deletion ---


def test_deprecating_an_aliased_version_warns_the_owner_naming_the_aliases(model, v1, v2, owner, staff):
    alias_set(model=model, name="production", version=v1, actor=owner)
    alias_set(model=model, name="canary", version=v1, actor=owner)
    alias_set(model=model, name="staging", version=v2, actor=owner)
    review_services.version_deprecate(version=v1, actor=owner, reason="Leaks memory.")
    warning = Notification.objects.get(user=owner, verb="alias_deprecated")
    assert "canary" in warning.message and "production" in warning.message and "staging" not in warning.message
    assert alias_resolve(model=model, name="production") == v1  # still resolves, with a warning
    assert alias_services.alias_warning("production", alias_resolve(model=model, name="production"))


def test_deprecating_an_unaliased_version_sends_no_alias_warning(model, v1, owner):
    review_services.version_deprecate(version=v1, actor=owner, reason="Old.")
    assert not Notification.objects.filter(verb="alias_deprecated").exists()


def test_rejection_cannot_reach_an_aliased_version(model, v1, owner, reviewer):
    """Only published versions are aliased, and only versions in review are rejected."""
    alias_set(model=model, name="production", version=v1, actor=owner)
    candidate = make_version(model, "1.2.0", status=VersionStatus.IN_REVIEW)
    with pytest.raises(DomainError):
        alias_set(model=model, name="production", version=candidate, actor=owner)
    review = candidate.reviews.get()
    review_services.review_decide(review=review, actor=reviewer, decision="reject", comment="No.")
    assert alias_resolve(model=model, name="production") == v1
    assert not ModelAlias.objects.filter(version__status=VersionStatus.REJECTED).exists()


def test_a_model_with_aliases_cannot_be_deleted_while_published(model, v1, owner):
    alias_set(model=model, name="production", version=v1, actor=owner)
    with pytest.raises(DomainError) as error:
        services.model_delete(model=model, actor=owner)
    assert error.value.code == "has_published_versions"


def test_the_owners_account_deletion_takes_the_aliases_and_their_history(model, v1, owner):
    alias_set(model=model, name="production", version=v1, actor=owner)
    owner.delete()  # the cascade through the model reaches the alias (RESTRICT lets it)
    assert not ModelAlias.objects.exists() and not AliasChange.objects.exists()


def test_a_version_with_an_alias_cannot_be_deleted_alone(model, v1, owner):
    from django.db.models import RestrictedError

    alias_set(model=model, name="production", version=v1, actor=owner)
    with pytest.raises(RestrictedError):
        v1.delete()


def test_aliases_of_a_private_model_work_for_its_owner(owner):
    private = make_model(owner, "secret", visibility="private")
    version = make_version(private, "1.0.0", status=VersionStatus.PUBLISHED)
    alias_set(model=private, name="production", version=version, actor=owner)
    assert alias_resolve(model=private, name="production") == version


def test_an_outsider_hears_403_before_anything_about_the_version(model, outsider):
    draft = make_version(model, "2.0.0")
    with pytest.raises(Forbidden):
        alias_set(model=model, name="production", version=draft, actor=outsider)
    with pytest.raises(Forbidden):
        alias_delete(model=model, name="never-set", actor=outsider)
