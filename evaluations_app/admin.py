from django.contrib import admin

from .models import Evaluation, TestSet


@admin.register(TestSet)
class TestSetAdmin(admin.ModelAdmin):
    list_display = ["__str__", "task", "rows", "visibility", "benchmark", "regression_threshold", "created_at"]
    list_filter = ["task", "visibility", "benchmark"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner", "declared_by"]
    # The table and its arrays are what evaluations were computed on: never swapped here.
    readonly_fields = ["blob", "features_blob", "target_blob", "file_format", "rows", "columns", "created_at"]


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "version", "test_set", "source", "status", "attempts", "created_at", "finished_at"]
    list_filter = ["status", "source"]
    search_fields = ["version__model__name", "version__model__owner__username", "test_set__name"]
    list_select_related = ["version__model__owner", "test_set__owner"]

    def has_add_permission(self, request) -> bool:
        return False  # evaluations are requested through the pages, the API or a submission

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # verified metrics are the registry's own: nobody edits them
