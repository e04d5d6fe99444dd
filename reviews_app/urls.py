from django.urls import path

from . import views
from .webhooks import views as webhooks

VERSION = "models/<str:owner>/<str:name>/versions/<str:version>/"
WEBHOOKS = "models/<str:owner>/<str:name>/webhooks/"

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
    path(WEBHOOKS, webhooks.webhook_list, name="model-webhooks"),
    path(WEBHOOKS + "<int:pk>/delete/", webhooks.webhook_delete, name="model-webhook-delete"),
    path(WEBHOOKS + "<int:pk>/rotate/", webhooks.webhook_rotate, name="model-webhook-rotate"),
    path(WEBHOOKS + "<int:pk>/test/", webhooks.webhook_test, name="model-webhook-test"),
    path(
        WEBHOOKS + "<int:pk>/deliveries/<int:delivery>/redeliver/",
        webhooks.delivery_redeliver,
        name="model-webhook-redeliver",
    ),
]
