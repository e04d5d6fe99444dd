"""The webhooks page's form: it validates the shape; the service checks the URL and saves."""

from django import forms

from .models import SUBSCRIBABLE, EventType

EVENT_CHOICES = [(value, f"{value} — {EventType(value).label}") for value in SUBSCRIBABLE]


class WebhookForm(forms.Form):
    url = forms.CharField(
        max_length=2000,
        label="Payload URL",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/registry"}),
        help_text="An http:// or https:// URL on a public address; the registry POSTs each event there as JSON.",
    )
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event to send."},
    )
