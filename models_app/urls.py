from django.urls import path

from . import evaluation_views, views

MODEL = "models/<str:owner>/<str:name>/"
VERSION = MODEL + "versions/<str:version>/"
TEST_SET = "test-sets/<str:owner>/<str:name>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("models/", views.model_list, name="model-list"),
    path("models/new/", views.model_create, name="model-create"),
    path(MODEL, views.model_detail, name="model-detail"),
    path(MODEL + "edit/", views.model_edit, name="model-edit"),
    path(MODEL + "delete/", views.model_delete, name="model-delete"),
    path(MODEL + "versions/", views.version_list, name="version-list"),
    path(MODEL + "versions/new/", views.version_create, name="version-create"),
    path(MODEL + "compare/", evaluation_views.model_compare, name="model-compare"),
    path(VERSION, views.version_detail, name="version-detail"),
    path(VERSION + "evaluate/", evaluation_views.evaluation_request, name="evaluation-request"),
    # Upload and remove live beside files/<path>, not under it, so no file path can shadow them.
    path(VERSION + "upload/", views.file_upload, name="file-upload"),
    path(VERSION + "remove-file/", views.file_remove, name="file-remove"),
    path(VERSION + "files/<path:path>", views.file_download, name="file-download"),
    path("test-sets/", evaluation_views.test_set_list, name="test-set-list"),
    path("test-sets/benchmarks/", evaluation_views.benchmark_list, name="benchmark-list"),
    path(TEST_SET, evaluation_views.test_set_detail, name="test-set-detail"),
    path(TEST_SET + "benchmark/", evaluation_views.test_set_benchmark, name="test-set-benchmark"),
    path("evaluations/<int:pk>/", evaluation_views.evaluation_detail, name="evaluation-detail"),
    path("users/<str:username>/", views.user_detail, name="user-detail"),
]
