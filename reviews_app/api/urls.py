from django.urls import path

from . import views

VERSION = "models/<str:owner>/<str:name>/versions/<str:version>/"

urlpatterns = [
    path(VERSION + "submit/", views.SubmitView.as_view(), name="api-version-submit"),
    path(VERSION + "deprecate/", views.DeprecateView.as_view(), name="api-version-deprecate"),
    path(VERSION + "undeprecate/", views.UndeprecateView.as_view(), name="api-version-undeprecate"),
    path("reviews/", views.ReviewListView.as_view(), name="api-review-list"),
    path("reviews/<int:pk>/", views.ReviewDetailView.as_view(), name="api-review-detail"),
    path("reviews/<int:pk>/decision/", views.DecisionView.as_view(), name="api-review-decision"),
    path("audit/", views.AuditListView.as_view(), name="api-audit-list"),
    path("notifications/", views.NotificationListView.as_view(), name="api-notification-list"),
    path("notifications/read/", views.NotificationReadView.as_view(), name="api-notification-read"),
]
