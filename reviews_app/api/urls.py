from django.urls import path

from ..webhooks import api as webhooks
from . import views

VERSION = "models/<str:owner>/<str:name>/versions/<str:version>/"
WEBHOOKS = "models/<str:owner>/<str:name>/webhooks/"

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
    path(WEBHOOKS, webhooks.WebhookListView.as_view(), name="api-webhook-list"),
    path(WEBHOOKS + "<int:pk>/", webhooks.WebhookDetailView.as_view(), name="api-webhook-detail"),
    path(WEBHOOKS + "<int:pk>/rotate-secret/", webhooks.WebhookRotateView.as_view(), name="api-webhook-rotate"),
    path(WEBHOOKS + "<int:pk>/test/", webhooks.WebhookTestView.as_view(), name="api-webhook-test"),
    path(WEBHOOKS + "<int:pk>/deliveries/", webhooks.DeliveryListView.as_view(), name="api-webhook-deliveries"),
    path(
        WEBHOOKS + "<int:pk>/deliveries/<int:delivery>/redeliver/",
        webhooks.RedeliverView.as_view(),
        name="api-webhook-redeliver",
    ),
]
