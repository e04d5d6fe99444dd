from django.urls import path

from accounts_app.api import TokenExchangeView

from . import evaluations, views

MODEL = "models/<str:owner>/<str:name>/"
VERSION = MODEL + "versions/<str:version>/"

urlpatterns = [
    path("auth/token/", TokenExchangeView.as_view(), name="api-token"),
    path("models/", views.ModelListView.as_view(), name="api-model-list"),
    path(MODEL, views.ModelDetailView.as_view(), name="api-model-detail"),
    path(MODEL + "versions/", views.VersionListView.as_view(), name="api-version-list"),
    path(VERSION, views.VersionDetailView.as_view(), name="api-version-detail"),
    path(VERSION + "files/", views.FileListView.as_view(), name="api-file-list"),
    path(VERSION + "files/<path:path>", views.FileDetailView.as_view(), name="api-file-detail"),
    path(VERSION + "evaluations/", evaluations.VersionEvaluationsView.as_view(), name="api-version-evaluations"),
    path("evaluations/<int:pk>/", evaluations.EvaluationDetailView.as_view(), name="api-evaluation-detail"),
    path("test-sets/", evaluations.TestSetListView.as_view(), name="api-test-set-list"),
    path("test-sets/<str:owner>/<str:name>/", evaluations.TestSetDetailView.as_view(), name="api-test-set-detail"),
    path(
        "test-sets/<str:owner>/<str:name>/leaderboard/",
        evaluations.LeaderboardView.as_view(),
        name="api-test-set-leaderboard",
    ),
]
