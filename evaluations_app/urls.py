from django.urls import path

from . import views

MODEL = "models/<str:owner>/<str:name>/"
VERSION = MODEL + "versions/<str:version>/"
TEST_SET = "test-sets/<str:owner>/<str:name>/"

urlpatterns = [
    path(MODEL + "compare/", views.model_compare, name="model-compare"),
    path(VERSION + "evaluate/", views.evaluation_request, name="evaluation-request"),
    path(VERSION + "evaluate-on/", views.evaluate_on_update, name="evaluate-on"),
    path("test-sets/", views.test_set_list, name="test-set-list"),
    path("test-sets/benchmarks/", views.benchmark_list, name="benchmark-list"),
    path(TEST_SET, views.test_set_detail, name="test-set-detail"),
    path(TEST_SET + "benchmark/", views.test_set_benchmark, name="test-set-benchmark"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation-detail"),
]
