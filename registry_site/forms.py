"""What every form of the site shares."""

from django import forms

from .errors import DomainError


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's error beside the field it names, or at the top of the form."""
    field = error.field if error.field in form.fields else None
    detail = error.detail
    if field and detail.startswith(f"{field}: "):
        detail = detail[len(field) + 2 :]  # beside the field, naming it again is noise
    form.add_error(field, detail)
