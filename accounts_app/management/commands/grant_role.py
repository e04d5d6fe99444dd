"""`manage.py grant_role rita reviewer` (or `--revoke`): the roles of accounts_app.roles."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts_app.roles import GRANTABLE, Role, role_grant, role_revoke


class Command(BaseCommand):
    help = "Make a user a reviewer or staff (or take it back with --revoke)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("role", choices=[str(role) for role in GRANTABLE])
        parser.add_argument("--revoke", action="store_true", help="take the role away instead")

    def handle(self, *args, username: str, role: str, revoke: bool, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username}; they sign up at /accounts/signup/ first.")
        if revoke:
            role_revoke(user=user, role=Role(role), actor=None)
            self.stdout.write(f"{username} is no longer {role}.")
        else:
            role_grant(user=user, role=Role(role), actor=None)
            self.stdout.write(f"{username} is now {role}.")
