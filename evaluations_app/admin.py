from django.contrib import admin

from . import services
from .models import Evaluation, TestSet

# What test_set_update changes; the admin's edits of these go through it, so marking a
# benchmark or moving its regression gate is audited like anywhere else.
TEST_SET_FIELDS = ("description", "visibility", "benchmark", "regression_threshold")


@admin.register(TestSet)
class TestSetAdmin(admin.ModelAdmin):
    list_display = ["__str__", "task", "rows", "visibility", "benchmark", "regression_threshold", "created_at"]
    list_filter = ["task", "visibility", "benchmark"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner"]
    # The table, its arrays and the target and task they were derived with are what
    # evaluations were computed on: never swapped here; nor its address (owner/name).
    readonly_fields = [
        "owner", "name", "declared_by", "task", "target_column", "blob", "features_blob", "target_blob", "file_format", "rows", "columns", "created_at",
    ]  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False  # test sets are uploaded, which validates the table and derives its arrays

    def save_model(self, request, obj, form, change) -> None:
        fields = {field: getattr(obj, field) for field in TEST_SET_FIELDS if field in form.changed_data}
        services.test_set_update(test_set=obj, actor=request.user, **fields)


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "source", "status", "attempts", "created_at", "finished_at"]
    list_filter = ["status", "source"]
    search_fields = ["version__model__name", "version__model__owner__username", "test_set__name"]
    list_select_related = ["version__model__owner", "test_set__owner"]

    def has_add_permission(self, request) -> bool:
        return False  # evaluations are requested through the pages, the API or a submission

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # verified metrics are the registry's own: nobody edits them
