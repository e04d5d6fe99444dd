"""The catalog's search, filters and sorting: one FilterSet for the pages and the API."""

import django_filters

from .models import Framework, License, RegisteredModel, Task
from .search import search

ORDERINGS = {
    "relevance": None,
    "downloads": ("-download_count", "-updated_at"),
    "-downloads": ("-download_count", "-updated_at"),
    "download_count": ("download_count", "updated_at"),
    "-download_count": ("-download_count", "-updated_at"),
    "updated": ("-updated_at",),
    "-updated_at": ("-updated_at",),
    "updated_at": ("updated_at",),
    "created": ("-created_at",),
    "-created_at": ("-created_at",),
    "created_at": ("created_at",),
    "name": ("name", "owner__username"),
    "-name": ("-name", "-owner__username"),
}
ORDERING_LABELS = [
    ("relevance", "Best match"),
    ("downloads", "Most downloaded"),
    ("updated", "Recently updated"),
    ("name", "Name"),
]


class ModelFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", max_length=200, label="Search")
    task = django_filters.ChoiceFilter(choices=Task.choices)
    framework = django_filters.ChoiceFilter(choices=Framework.choices)
    license = django_filters.ChoiceFilter(choices=License.choices)
    tag = django_filters.CharFilter(method="filter_tag", max_length=50)
    owner = django_filters.CharFilter(field_name="owner__username", max_length=150)
    visibility = django_filters.ChoiceFilter(choices=[("public", "Public"), ("private", "Private")])
    ordering = django_filters.ChoiceFilter(
        method="filter_ordering", choices=[(key, key) for key in ORDERINGS], empty_label=None
    )

    class Meta:
        model = RegisteredModel
        fields = ["q", "task", "framework", "license", "tag", "owner", "visibility", "ordering"]

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__name=value.strip().lower()) if value else queryset

    def filter_search(self, queryset, name, value):
        return search(queryset, value) if value.strip() else queryset

    def filter_ordering(self, queryset, name, value):
        return queryset  # applied in `qs`, after the search has annotated relevance

    @property
    def qs(self):
        queryset = super().qs
        ordering = self.form.cleaned_data.get("ordering") if self.form.is_valid() else None
        searching = bool((self.form.cleaned_data.get("q") or "").strip()) if self.form.is_valid() else False
        if not ordering or ordering == "relevance":
            if searching:
                return queryset.order_by("-name_match", "-relevance", "-download_count", "pk")
            return queryset.order_by("-download_count", "-updated_at", "pk")
        return queryset.order_by(*ORDERINGS[ordering], "pk")
