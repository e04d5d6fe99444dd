from django import forms
from django.contrib.auth.forms import BaseUserCreationForm


class SignupForm(BaseUserCreationForm):
    """Validates username, email and password; accounts_app.services.user_create writes the user."""

    email = forms.EmailField(required=True, help_text="Only used to tell you about reviews of your models.")

    class Meta(BaseUserCreationForm.Meta):
        fields = ("username", "email")


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text='What will use it, e.g. "laptop CLI" or "CI pipeline".')
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label="Expires after (days)",
        help_text="Leave empty for no expiry.",
    )
