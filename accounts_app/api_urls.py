from django.urls import path

from .api import TokenExchangeView

urlpatterns = [
    path("auth/token/", TokenExchangeView.as_view(), name="api-token"),
]
