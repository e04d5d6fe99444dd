"""The webhooks page of a model, for whoever may edit it: list, add (the secret shown once),
delete, rotate the secret, send a test event, the delivery log and redelivery."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts_app.roles import Action, may
from models_app.lookups import get_model
from models_app.models import RegisteredModel
from registry_site.audit import RequestMeta
from registry_site.errors import DomainError, NotFound
from registry_site.forms import add_domain_error

from . import selectors, services
from .forms import WebhookForm
from .models import Webhook


def _get_editable_model(request: HttpRequest, owner: str, name: str) -> RegisteredModel:
    """404 unless the user sees the model, 403 unless they may edit it."""
    model = get_model(request, owner, name)
    if not may(request.user, Action.EDIT, owner_id=model.owner_id):
        raise PermissionDenied(f"Only the owner of {model.full_name} can manage its webhooks.")
    return model


def _get_webhook(request: HttpRequest, owner: str, name: str, pk: int) -> Webhook:
    model = _get_editable_model(request, owner, name)
    try:
        return selectors.webhook_get(model=model, pk=pk)
    except NotFound as error:
        raise Http404(error.detail) from None


def _page(request, model, *, form=None, secret_for: Webhook | None = None, status: int = 200) -> HttpResponse:
    context = {
        "model": model,
        "webhooks": list(selectors.webhook_list(model=model, with_log=True)),
        "form": form or WebhookForm(),
        "secret_for": secret_for,
    }
    return render(request, "reviews_app/webhooks.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    model = _get_editable_model(request, owner, name)
    if request.method == "GET":
        return _page(request, model)
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _page(request, model, form=form, status=400)
    try:
        webhook = services.webhook_create(
            model=model,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            actor=request.user,
            meta=RequestMeta.from_request(request),
        )
    except DomainError as error:
        add_domain_error(form, error)
        return _page(request, model, form=form, status=error.status)
    # Rendered, not redirected: the secret must not travel through the session or a cookie.
    return _page(request, model, secret_for=webhook, status=201)


@login_required
@require_POST
def webhook_delete(request: HttpRequest, owner: str, name: str, pk: int) -> HttpResponse:
    webhook = _get_webhook(request, owner, name, pk)
    services.webhook_delete(webhook=webhook, actor=request.user, meta=RequestMeta.from_request(request))
    messages.success(request, f"Deleted the webhook to {webhook.url}.")
    return redirect("model-webhooks", owner=owner, name=name)


@login_required
@require_POST
def webhook_rotate(request: HttpRequest, owner: str, name: str, pk: int) -> HttpResponse:
    webhook = _get_webhook(request, owner, name, pk)
    webhook = services.webhook_rotate_secret(
        webhook=webhook, actor=request.user, meta=RequestMeta.from_request(request)
    )
    return _page(request, webhook.model, secret_for=webhook)


@login_required
@require_POST
def webhook_test(request: HttpRequest, owner: str, name: str, pk: int) -> HttpResponse:
    webhook = _get_webhook(request, owner, name, pk)
    services.webhook_send_test(webhook=webhook, actor=request.user)
    messages.success(request, "A test event is on its way; its delivery appears in the log below.")
    return redirect("model-webhooks", owner=owner, name=name)


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, owner: str, name: str, pk: int, delivery: int) -> HttpResponse:
    webhook = _get_webhook(request, owner, name, pk)
    try:
        instance = selectors.delivery_get(webhook=webhook, pk=delivery)
        services.delivery_redeliver(delivery=instance, actor=request.user)
    except NotFound as error:
        raise Http404(error.detail) from None
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"The {instance.event.type} event is being sent again.")
    return redirect("model-webhooks", owner=owner, name=name)
