"""What every form of the site shares."""

from django import forms

from .errors import DomainError


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's error beside the field it names, or at the top of the form; an error
    that carries several (`errors`: (field, sentence) pairs) shows each of them."""
    for field, detail in getattr(error, "errors", None) or [(error.field, error.detail)]:
        _add_one(form, field, detail)


def _add_one(form: forms.Form, field: str | None, detail: str) -> None:
    field = field if field in form.fields else None
    if field and detail.startswith(f"{field}: "):
        detail = detail[len(field) + 2 :]  # beside the field, naming it again is noise
    form.add_error(field, detail)
