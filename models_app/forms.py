"""Forms of the catalog pages. They validate and shape input; services do the writing."""

import json
import math
from typing import Any

from django import forms

from registry_site.forms import add_domain_error
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


# --- A version's metadata as rows of fields, not JSON typed in a box ---

MAX_ROWS = 100


def _json_value(text: str) -> Any:
    """A parameter typed in a field: a number, true/false/null, a list or an object when it
    reads as JSON (decoded the registry's careful way), else the text itself ("lbfgs")."""
    try:
        return json_loads(text)
    except JSONRefused:
        return text


def _display(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class KeyValueForm(forms.Form):
    key = forms.CharField(
        label="Name", max_length=200, required=False, widget=forms.TextInput(attrs={"spellcheck": "false"})
    )
    value = forms.CharField(
        label="Value", max_length=2000, required=False, widget=forms.TextInput(attrs={"spellcheck": "false"})
    )

    def clean(self) -> dict:
        data = super().clean()
        key, value = (data.get("key") or "").strip(), (data.get("value") or "").strip()
        if not key and value:
            self.add_error("key", "Name this value.")
        if key and not value:
            self.add_error("value", f"Give {key} a value, or clear the row.")
        for field, text in (("key", key), ("value", value)):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: no database can store it
                self.add_error(field, "This contains a character that cannot be stored.")
        if self.errors:
            return data
        data["key"], data["value"] = key, self.parse(value) if key and value else None
        return data

    def parse(self, text: str) -> Any:
        return _json_value(text)


class MetricForm(KeyValueForm):
    def parse(self, text: str) -> Any:
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is None or not math.isfinite(number):
            self.add_error("value", f"{text[:40]} is not a number; a reported metric is one, like 0.95.")
            return None
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


class KeyValueFormSet(forms.BaseFormSet):
    """Rows of name and value; blank rows are left out, a name given twice is refused."""

    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            key = form.cleaned_data.get("key")
            if key and key in seen:
                form.add_error("key", f"{key} is given twice.")
            seen.add(key)

    def as_dict(self) -> dict:
        return {f.cleaned_data["key"]: f.cleaned_data["value"] for f in self.forms if f.cleaned_data.get("key")}

    @staticmethod
    def rows(mapping: Any) -> list[dict]:
        items = mapping.items() if isinstance(mapping, dict) else []
        return [{"key": key, "value": _display(value)} for key, value in items]


def _shape_text(shape: Any) -> str:
    if not isinstance(shape, list):
        return ""
    return ", ".join("?" if dim is None else str(dim) for dim in shape)


def _labels_text(labels: Any) -> str:
    return ", ".join(str(label) for label in labels) if isinstance(labels, list) else ""


class SignatureSpecForm(forms.Form):
    """One input or output: its name, type and shape ("?, 4": any number of rows of 4), and
    for an input the table columns it takes, for an output the classes its indices mean."""

    name = forms.CharField(
        label="Name", max_length=200, required=False, widget=forms.TextInput(attrs={"spellcheck": "false"})
    )
    type = forms.CharField(
        label="Type",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"spellcheck": "false", "list": "tensor-types"}),
    )
    shape = forms.CharField(
        label="Shape",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"spellcheck": "false", "placeholder": "?, 4"}),
    )
    labels = forms.CharField(
        label="Classes", max_length=20000, required=False, widget=forms.TextInput(attrs={"spellcheck": "false"})
    )
    labels_key = "classes"

    def clean_shape(self) -> list | None:
        text = (self.cleaned_data.get("shape") or "").strip().strip("[]()")
        if not text:
            return None
        shape = []
        for part in text.replace(",", " ").split():
            if part.lower() in ("?", "none", "null", "n", "-1"):
                shape.append(None)
            elif part.isdigit():
                shape.append(int(part))
            else:
                raise forms.ValidationError(
                    f"{part[:20]} is not a size: write each dimension as a whole number, or ? for any."
                )
        return shape

    def clean_labels(self) -> list | None:
        text = (self.cleaned_data.get("labels") or "").strip()
        if not text:
            return None
        labels = [label.strip() for label in text.split(",") if label.strip()]
        if self.labels_key == "classes" and all(label.lstrip("-").isdigit() for label in labels):
            return [int(label) for label in labels]
        return labels

    def clean(self) -> dict:
        data = super().clean()
        name, kind = (data.get("name") or "").strip(), (data.get("type") or "").strip()
        filled = kind or data.get("shape") or data.get("labels")
        if filled and not name:
            self.add_error("name", "Name this entry.")
        if name and not kind:
            self.add_error("type", f"Give {name} a type, such as float32.")
        data["name"], data["type"] = name, kind
        return data

    def spec(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("name"):
            return None
        spec = {"name": data["name"], "type": data["type"]}
        if data.get("shape") is not None:
            spec["shape"] = data["shape"]
        if data.get("labels"):
            spec[self.labels_key] = data["labels"]
        return spec


class InputSpecForm(SignatureSpecForm):
    labels_key = "columns"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["labels"].label = "Columns"


class SignatureFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            name = form.cleaned_data.get("name")
            if name and name in seen:
                form.add_error("name", f"{name} is named twice.")
            seen.add(name)

    def specs(self) -> list[dict]:
        return [spec for form in self.forms if (spec := form.spec())]

    @staticmethod
    def rows(specs: Any, labels_key: str) -> list[dict]:
        return [
            {
                "name": spec.get("name", ""),
                "type": spec.get("type", ""),
                "shape": _shape_text(spec.get("shape")),
                "labels": _labels_text(spec.get(labels_key)),
            }
            for spec in (specs if isinstance(specs, list) else [])
            if isinstance(spec, dict)
        ]


def _formset(form, base):
    return forms.formset_factory(
        form, formset=base, extra=1, max_num=MAX_ROWS, validate_max=True, absolute_max=MAX_ROWS
    )


ParamFormSet = _formset(KeyValueForm, KeyValueFormSet)
MetricFormSet = _formset(MetricForm, KeyValueFormSet)
InputFormSet = _formset(InputSpecForm, SignatureFormSet)
OutputFormSet = _formset(SignatureSpecForm, SignatureFormSet)


class VersionDetailsForm(forms.Form):
    changelog = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}), help_text="Markdown: what changed, and why."
    )


class VersionCreateForm(VersionDetailsForm):
    version = forms.CharField(
        max_length=64,
        help_text="Semantic version, like 1.2.0 or 2.0.0-rc.1; greater than every published version.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}),
    )
    field_order = ["version", "changelog"]


class VersionMetadata:
    """The version form and its four formsets (parameters, reported metrics, inputs,
    outputs), bound together: `is_valid()` validates every one of them, so every error of
    the page is shown at once, and `cleaned()` is what version_create/version_update take."""

    def __init__(self, data=None, *, version=None, creating: bool = False):
        form_class = VersionCreateForm if creating else VersionDetailsForm
        signature = version.signature if version is not None and isinstance(version.signature, dict) else {}
        self.form = form_class(data, initial={"changelog": version.changelog} if version is not None else None)

        def rows(value) -> list[dict] | None:
            # Bound, the rows come from the data alone: a row sent back unchanged from its
            # initial value would otherwise count as an untouched blank row and be dropped.
            return value if data is None else None

        self.params = ParamFormSet(
            data, prefix="params", initial=rows(KeyValueFormSet.rows(version and version.params))
        )
        self.metrics = MetricFormSet(
            data, prefix="metrics", initial=rows(KeyValueFormSet.rows(version and version.reported_metrics))
        )
        self.inputs = InputFormSet(
            data, prefix="inputs", initial=rows(SignatureFormSet.rows(signature.get("inputs"), "columns"))
        )
        self.outputs = OutputFormSet(
            data, prefix="outputs", initial=rows(SignatureFormSet.rows(signature.get("outputs"), "classes"))
        )

    @property
    def parts(self) -> list:
        return [self.form, self.params, self.metrics, self.inputs, self.outputs]

    def is_valid(self) -> bool:
        return all([part.is_valid() for part in self.parts])  # a list, not a generator: validate all

    def cleaned(self) -> dict:
        data = dict(self.form.cleaned_data)
        data["params"] = self.params.as_dict()
        data["reported_metrics"] = self.metrics.as_dict()
        inputs, outputs = self.inputs.specs(), self.outputs.specs()
        data["signature"] = {"inputs": inputs, "outputs": outputs} if inputs or outputs else {}
        return data

    def add_service_error(self, error) -> None:
        """A service's problems beside the part they concern (the field names are the API's)."""
        targets = {"params": self.params, "reported_metrics": self.metrics, "signature": self.inputs}
        for field, detail in getattr(error, "errors", None) or [(error.field, error.detail)]:
            target = targets.get(field)
            if target is not None:
                target._non_form_errors = target.non_form_errors() + [detail]
            else:
                add_domain_error(self.form, type(error)(detail, field=field))

    @property
    def error_count(self) -> int:
        count = len(self.form.errors) and sum(len(e) for e in self.form.errors.values())
        for formset in self.parts[1:]:
            count += len(formset.non_form_errors()) + sum(len(e) for f in formset.errors for e in f.values())
        return count


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


class AliasSetForm(forms.Form):
    """Set or move an alias from the model page. The name's rules are the service's
    (aliases.alias_name_check), shown beside the field when it refuses one."""

    PROTECTION = [("", "Keep as it is"), ("yes", "Protected: only reviewers move it"), ("no", "Not protected")]

    name = forms.CharField(max_length=63, help_text="A lowercase slug: production, staging, champion.")
    version = forms.ChoiceField(choices=[], help_text="Only published versions can be aliased.")
    protection = forms.ChoiceField(choices=PROTECTION, required=False)

    def __init__(self, *args, versions: list[str], can_protect: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [(v, v) for v in versions]
        if not can_protect:
            del self.fields["protection"]

    def protected(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("protection") or "")
