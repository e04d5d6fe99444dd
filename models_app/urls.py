from django.urls import path

from . import alias_views, views

MODEL = "models/<str:owner>/<str:name>/"
VERSION = MODEL + "versions/<str:version>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("models/", views.model_list, name="model-list"),
    path("models/new/", views.model_create, name="model-create"),
    path(MODEL, views.model_detail, name="model-detail"),
    path(MODEL + "edit/", views.model_edit, name="model-edit"),
    path(MODEL + "delete/", views.model_delete, name="model-delete"),
    path(MODEL + "versions/", views.version_list, name="version-list"),
    path(MODEL + "versions/new/", views.version_create, name="version-create"),
    path(VERSION, views.version_detail, name="version-detail"),
    path(VERSION + "edit/", views.version_edit, name="version-edit"),
    # Upload and remove live beside files/<path>, not under it, so no file path can shadow them.
    path(VERSION + "upload/", views.file_upload, name="file-upload"),
    path(VERSION + "remove-file/", views.file_remove, name="file-remove"),
    path(VERSION + "evaluated-file/", views.version_evaluated_file, name="version-evaluated-file"),
    path(VERSION + "files/<path:path>", views.file_download, name="file-download"),
    path(MODEL + "aliases/", alias_views.alias_set, name="alias-set"),
    path(MODEL + "aliases/<str:alias>/", alias_views.alias_history, name="alias-history"),
    path(MODEL + "aliases/<str:alias>/delete/", alias_views.alias_delete, name="alias-delete"),
    path("users/<str:username>/", views.user_detail, name="user-detail"),
]
