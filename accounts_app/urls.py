from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    # Django 5 logs out on POST only, so a link or an <img> on another site cannot log anyone out.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
