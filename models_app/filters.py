"""The catalog's search, filters and sorting: one FilterSet for the pages and the API."""

import django_filters
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, Value, When

from .models import Framework, License, RegisteredModel, Task

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
        value = value.strip()
        if not value:
            return queryset
        if connection.vendor == "postgresql":
            query = SearchQuery(value, search_type="websearch", config="english")
            return queryset.filter(Q(search_vector=query) | Q(name__icontains=value)).annotate(
                relevance=SearchRank(F("search_vector"), query)
                + Case(When(name__iexact=value, then=Value(1.0)), default=Value(0.0))
            )
        # SQLite: substring matching, ranked by where the match is (name, summary, tags, card).
        return queryset.filter(
            Q(name__icontains=value)
            | Q(summary__icontains=value)
            | Q(tags_text__icontains=value)
            | Q(description__icontains=value)
        ).annotate(
            relevance=Case(
                When(name__iexact=value, then=Value(8)),
                When(name__icontains=value, then=Value(4)),
                When(summary__icontains=value, then=Value(2)),
                When(tags_text__icontains=value, then=Value(2)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )

    def filter_ordering(self, queryset, name, value):
        return queryset  # applied in `qs`, after the search has annotated relevance

    @property
    def qs(self):
        queryset = super().qs
        ordering = self.form.cleaned_data.get("ordering") if self.form.is_valid() else None
        searching = bool((self.form.cleaned_data.get("q") or "").strip()) if self.form.is_valid() else False
        if not ordering or ordering == "relevance":
            if searching:
                return queryset.order_by("-relevance", "-download_count", "pk")
            return queryset.order_by("-download_count", "-updated_at", "pk")
        return queryset.order_by(*ORDERINGS[ordering], "pk")
