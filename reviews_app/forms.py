"""Forms of the review workflow's pages. They validate and shape input; services do the writing."""

from django import forms

from models_app.models import Task

from .models import Decision


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=Decision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose approve, request changes or reject."},
    )
    # Required or not is the service's rule (request changes and reject need one); its error lands here.
    comment = forms.CharField(
        required=False,
        max_length=10_000,
        # No autofocus: the page opens at its top, where the reviewer starts reading.
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "What should the owner know?"}),
        help_text="Required to request changes or reject; the owner sees it.",
    )
    override_regression = forms.BooleanField(
        required=False,
        label="Override the regression gate",
        help_text="Approve although a benchmark metric fell beyond its gate; say why in the comment (it is audited).",
    )
    override_scan = forms.BooleanField(
        required=False,
        label="Override the file scan",
        help_text="Approve although a file is flagged or could not be scanned; say why in the comment (it is audited).",
    )


class SubmitForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=10_000,
        label="Note to the reviewers",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: what changed, what to look at.",
    )


class DeprecateForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown as a warning wherever the version appears, e.g. “Use 2.0.0: 1.x mislabels class 3.”",
    )


class QueueFilterForm(forms.Form):
    task = forms.ChoiceField(choices=[("", "Any task"), *Task.choices], required=False)
    submitter = forms.CharField(required=False, max_length=150)
    failing = forms.BooleanField(required=False, label="Failing checks only")


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(choices=[("", "Any action")], required=False)
    actor = forms.CharField(required=False, max_length=150)
    model = forms.CharField(required=False, max_length=260, help_text="owner/name")

    def __init__(self, *args, actions: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action"), *((a, a) for a in actions)]
