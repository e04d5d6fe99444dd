from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from registry_site.errors import DomainError

from .services import EXCHANGE_TOKEN_DAYS, EXCHANGE_TOKEN_NAME, token_exchange


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"})
    name = serializers.CharField(
        max_length=100, required=False, default=EXCHANGE_TOKEN_NAME,
        help_text="An exchange replaces the earlier token of the same name, so scripts do not pile them up.",
    )  # fmt: skip
    expires_in_days = serializers.IntegerField(
        required=False, min_value=1, max_value=3650, default=EXCHANGE_TOKEN_DAYS,
        help_text=f"Days until the token expires ({EXCHANGE_TOKEN_DAYS} unless given).",
    )  # fmt: skip


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    name = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)


class TokenExchangeView(APIView):
    """Exchange a username and password for a new API token (shown once)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        operation_id="auth_token_create",
        summary="Exchange username and password for a token",
        request=TokenRequestSerializer,
        responses={201: TokenResponseSerializer},
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None:
            raise DomainError("The username or password is wrong.", code="invalid_credentials")
        token, raw = token_exchange(user=user, name=data["name"], expires_in_days=data["expires_in_days"])
        return Response(
            {"token": raw, "name": token.name, "expires_at": token.expires_at}, status=status.HTTP_201_CREATED
        )
