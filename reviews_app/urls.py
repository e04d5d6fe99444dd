from django.urls import path

from . import views

VERSION = "models/<str:owner>/<str:name>/versions/<str:version>/"

urlpatterns = [
    path("reviews/", views.review_queue, name="review-queue"),
    path("reviews/mine/", views.my_submissions, name="my-submissions"),
    path("reviews/<int:pk>/", views.review_detail, name="review-detail"),
    path("audit/", views.audit_log, name="audit-log"),
    path("notifications/", views.notification_list, name="notification-list"),
    # The version page's lifecycle buttons post here (beside files/<path>, never under it).
    path(VERSION + "submit/", views.version_submit, name="version-submit"),
    path(VERSION + "deprecate/", views.version_deprecate, name="version-deprecate"),
    path(VERSION + "undeprecate/", views.version_undeprecate, name="version-undeprecate"),
]
