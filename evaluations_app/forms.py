"""Forms of the evaluation pages. They validate and shape input; services do the writing."""

from typing import Any

from django import forms

from models_app.models import Visibility

from .models import TestSetTask


class TestSetUploadForm(forms.Form):
    __test__ = False  # not a pytest test class, whatever its name says

    name = forms.CharField(
        max_length=100,
        help_text="Lowercase letters, digits, '.', '-' or '_'; the test set's address is your-name/this-name.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    task = forms.ChoiceField(choices=TestSetTask.choices)
    target_column = forms.CharField(max_length=200, help_text="The column holding the true label or value.")
    file = forms.FileField(label="Table", help_text="CSV (UTF-8) or Parquet; every feature column numeric.")
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Where the rows come from; Markdown."
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices,
        widget=forms.RadioSelect,
        initial=Visibility.PUBLIC,
        help_text="A private test set is visible only to you (and staff).",
    )


class TestSetBenchmarkForm(forms.Form):
    """Staff only: curate a test set as a benchmark and set its regression gate."""

    benchmark = forms.BooleanField(required=False, label="Benchmark")
    regression_threshold = forms.FloatField(
        min_value=0.0,
        max_value=1.0,
        label="Regression gate",
        help_text="A relative drop of the headline metric beyond this (0.02 = 2%) blocks approval.",
    )


class EvaluationRequestForm(forms.Form):
    test_set = forms.ChoiceField(label="Test set")
    predictions_file = forms.ChoiceField(
        label="Predictions file",
        required=False,
        help_text="Leave empty to run the model itself; or score a predictions file of this version instead.",
    )

    def __init__(self, *args: Any, test_sets: list, files: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["test_set"].choices = [
            (
                t.full_name,
                f"{t.full_name} ({t.get_task_display().lower()}, {t.rows} rows)" + (" ★" if t.benchmark else ""),
            )
            for t in test_sets
        ]
        self.fields["predictions_file"].choices = [("", "— run the model —"), *((f.path, f.path) for f in files)]


class EvaluateOnForm(forms.Form):
    """The owner's pick of test sets every submitted version of the model is evaluated on."""

    test_sets = forms.MultipleChoiceField(
        label="Evaluate on", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Each submitted version is run on these; benchmarks that fit are added by the registry.",
    )  # fmt: skip

    def __init__(self, *args: Any, test_sets: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_name = {t.full_name: t for t in test_sets}
        self.fields["test_sets"].choices = [
            (
                t.full_name,
                f"{t.full_name} ({t.get_task_display().lower()}, {t.rows} rows)" + (" ★" if t.benchmark else ""),
            )
            for t in test_sets
        ]

    def chosen(self) -> list:
        return [self.by_name[name] for name in self.cleaned_data["test_sets"]]
