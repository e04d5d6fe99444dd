"""The review workflow's parts of the catalog's version page (registered in apps.py)."""

from django.http import HttpRequest

from accounts_app.roles import Action, may
from models_app.models import ModelVersion, RegisteredModel, VersionStatus

from . import selectors
from .forms import DeprecateForm, SubmitForm

EVENTS_SHOWN = 50


def version_part(request: HttpRequest, *, version: ModelVersion, **_: object) -> dict:
    """Its reviews, its history and the lifecycle forms the user may use."""
    user, owner_id = request.user, version.model.owner_id
    may_deprecate = may(user, Action.DEPRECATE, owner_id=owner_id)
    reviews = list(selectors.reviews_of_version(version=version))
    return {
        "reviews": reviews,
        "latest_review": reviews[-1] if reviews else None,
        # Review comments are between the owner and the reviewers; others see the transitions only.
        "show_reasons": may(user, Action.SEE_REVIEW_COMMENTS, owner_id=owner_id),
        "events": list(selectors.audit_list(version=version)[:EVENTS_SHOWN]),
        "submit_form": SubmitForm() if may(user, Action.SUBMIT, owner_id=owner_id) and version.is_editable else None,
        "deprecate_form": DeprecateForm() if may_deprecate and version.status == VersionStatus.PUBLISHED else None,
        "can_undeprecate": may_deprecate and version.is_deprecated,
    }


VERSION_TEMPLATES = {
    "status": "reviews_app/_version_status.html",
    "actions": "reviews_app/_version_submit.html",
    "history": "reviews_app/_version_history.html",
}


def model_part(request: HttpRequest, *, model: RegisteredModel, **_: object) -> dict:
    """The owner's link to the model's webhooks."""
    return {"may_manage_webhooks": may(request.user, Action.EDIT, owner_id=model.owner_id)}


MODEL_TEMPLATES = {"actions": "reviews_app/_model_webhooks_link.html"}
