"""Forms of the catalog pages. They validate and shape input; services do the writing."""

from typing import Any

from django import forms
from django.forms.fields import InvalidJSONInput

from registry_site.parsers import JSONRefused, json_loads

from .models import Framework, License, Task, Visibility


class TagsField(forms.CharField):
    """Tags typed as "vision, resnet imagenet"; the service normalizes and limits them."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [tag for tag in text.replace(",", " ").split() if tag]

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, (list, tuple)):
            return ", ".join(str(tag) for tag in value)
        return value or ""


class ModelEditForm(forms.Form):
    summary = forms.CharField(max_length=300, required=False, help_text="One sentence shown in search results.")
    # No default: a model left on the first choice would be filed under the wrong task.
    task = forms.ChoiceField(choices=[("", "Choose a task…"), *Task.choices])
    framework = forms.ChoiceField(choices=Framework.choices)
    license = forms.ChoiceField(choices=License.choices, help_text="An SPDX identifier.")
    tags = TagsField(required=False, max_length=1000, help_text="Separated by commas or spaces, at most 20.")
    visibility = forms.ChoiceField(
        choices=Visibility.choices,
        widget=forms.RadioSelect,
        initial=Visibility.PUBLIC,
        help_text="Private models are visible only to you.",
    )
    description = forms.CharField(
        required=False,
        label="Model card",
        widget=forms.Textarea(attrs={"rows": 14, "class": "mono"}),
        help_text="Markdown. Describe the training data, intended use, limitations and how to evaluate.",
    )


class ModelCreateForm(ModelEditForm):
    name = forms.CharField(
        max_length=100,
        help_text="Lowercase letters, digits, '.', '-' or '_'; the model's address is your-name/this-name.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}),
    )
    field_order = ["name", "summary", "task", "framework", "license", "tags", "visibility", "description"]


class JSONObjectField(forms.JSONField):
    """A JSON object typed in a textarea; empty means {}."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4, "class": "mono", "spellcheck": "false"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return {}
        result = value
        if isinstance(value, str):
            # The registry's decoder: too deep, NaN, 1e999, NUL or a lone surrogate is an
            # error here, not a 500 in the view or the database.
            try:
                result = json_loads(value)
            except JSONRefused as error:
                raise forms.ValidationError(str(error)) from None
        if result in (None, ""):  # an untouched textarea shows (and sends back) "null"
            return {}
        if not isinstance(result, dict):
            raise forms.ValidationError('Enter a JSON object, like {"key": 1}.')
        return result

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Shown again in the form: decoded the same careful way (Django's would recurse).
        if self.disabled or not isinstance(data, str):
            return super().bound_data(data, initial)
        try:
            return json_loads(data)
        except JSONRefused:
            return InvalidJSONInput(data)


class VersionCreateForm(forms.Form):
    version = forms.CharField(
        max_length=64,
        help_text="Semantic version, like 1.2.0 or 2.0.0-rc.1; greater than every published version.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}),
    )
    changelog = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}), help_text="Markdown.")
    params = JSONObjectField(label="Hyper-parameters", help_text='JSON object, e.g. {"C": 1.0, "max_iter": 200}.')
    reported_metrics = JSONObjectField(
        label="Reported metrics",
        help_text='JSON object of numbers, e.g. {"accuracy": 0.95}. Shown labelled as reported by you.',
    )
    signature = JSONObjectField(
        help_text='JSON: {"inputs": [{"name": "x", "type": "float32", "shape": [null, 4]}], "outputs": [...]}.'
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list:
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)]


class FileUploadForm(forms.Form):
    file = MultipleFileField(label="Files", help_text="One or more files; each is stored under its SHA-256.")
