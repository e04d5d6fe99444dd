from django.urls import path

from . import views

VERSION = "models/<str:owner>/<str:name>/versions/<str:version>/"
TEST_SET = "test-sets/<str:owner>/<str:name>/"

urlpatterns = [
    path(VERSION + "evaluations/", views.VersionEvaluationsView.as_view(), name="api-version-evaluations"),
    path("evaluations/<int:pk>/", views.EvaluationDetailView.as_view(), name="api-evaluation-detail"),
    path("test-sets/", views.TestSetListView.as_view(), name="api-test-set-list"),
    path(TEST_SET, views.TestSetDetailView.as_view(), name="api-test-set-detail"),
    path(TEST_SET + "leaderboard/", views.LeaderboardView.as_view(), name="api-test-set-leaderboard"),
]
