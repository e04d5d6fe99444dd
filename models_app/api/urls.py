from django.urls import path

from . import views

MODEL = "models/<str:owner>/<str:name>/"
VERSION = MODEL + "versions/<str:version>/"

urlpatterns = [
    path("models/", views.ModelListView.as_view(), name="api-model-list"),
    path(MODEL, views.ModelDetailView.as_view(), name="api-model-detail"),
    path(MODEL + "versions/", views.VersionListView.as_view(), name="api-version-list"),
    path(VERSION, views.VersionDetailView.as_view(), name="api-version-detail"),
    path(VERSION + "files/", views.FileListView.as_view(), name="api-file-list"),
    path(VERSION + "files/<path:path>", views.FileDetailView.as_view(), name="api-file-detail"),
    path(MODEL + "aliases/", views.AliasListView.as_view(), name="api-alias-list"),
    path(MODEL + "aliases/<str:alias>/", views.AliasDetailView.as_view(), name="api-alias-detail"),
    path(MODEL + "aliases/<str:alias>/history/", views.AliasHistoryView.as_view(), name="api-alias-history"),
]
