"""Shapes and validates the API's data; never changes state (the services do)."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts_app.roles import Action, may
from registry_site.parsers import JSONField

from ..aliases import alias_warning, aliases_pointing_at
from ..cards import published_card, working_card
from ..models import (
    AliasChange,
    Framework,
    License,
    ModelAlias,
    ModelFile,
    ModelVersion,
    RegisteredModel,
    Task,
    Visibility,
)
from ..semver import InvalidVersion, parse_version


class ReadOnlyFieldsMixin:
    """Refuse writes to fields the client may not set, instead of silently dropping them."""

    protected_fields: tuple[str, ...] = ()

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            sent = [field for field in self.protected_fields if field in data]
            if sent:
                raise serializers.ValidationError(
                    {sent[0]: [f"{sent[0]} is read-only; it changes only through the registry's own actions."]}
                )
        return super().to_internal_value(data)


class TagsField(serializers.ListField):
    child = serializers.CharField(max_length=50)

    def to_representation(self, value):
        # Read from the prefetched tags (no query per model in a list).
        return [tag.name for tag in value.all()]


class ModelSerializer(ReadOnlyFieldsMixin, serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    full_name = serializers.CharField(read_only=True)
    tags = TagsField(required=False, max_length=20)
    task = serializers.ChoiceField(choices=Task.choices)
    framework = serializers.ChoiceField(choices=Framework.choices)
    license = serializers.ChoiceField(choices=License.choices)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    latest_version = serializers.CharField(
        read_only=True, allow_null=True, default=None, help_text="The newest stable release; never a pre-release."
    )
    has_release = serializers.BooleanField(
        read_only=True,
        help_text="Has a published or deprecated version; until then only its owner, reviewers and staff see it.",
    )
    pending_edits = serializers.SerializerMethodField(
        help_text="The card fields the owner changed since the last approval, with their new values; they go public "
        "with the next approved version. Shown to the owner, reviewers and staff; {} for everyone else."
    )
    url = serializers.SerializerMethodField()

    protected_fields = (
        "owner", "full_name", "download_count", "latest_version", "has_release", "pending_edits",
        "created_at", "updated_at", "url",
    )  # fmt: skip

    class Meta:
        model = RegisteredModel
        fields = [
            "owner",
            "name",
            "full_name",
            "summary",
            "description",
            "task",
            "framework",
            "license",
            "tags",
            "visibility",
            "download_count",
            "latest_version",
            "has_release",
            "pending_edits",
            "created_at",
            "updated_at",
            "url",
        ]
        read_only_fields = ["download_count", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}

    @extend_schema_field(serializers.DictField())
    def get_pending_edits(self, obj) -> dict:
        """The card fields are always the published card (models_app/cards.py); the working
        copy's differences show here, to those who may read it."""
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if not obj.pending_card or not may(user, Action.SEE_SUBMITTED, owner_id=obj.owner_id):
            return {}
        return working_card(obj).changes_from(published_card(obj))

    @extend_schema_field(serializers.URLField())
    def get_url(self, obj) -> str:
        path = reverse("api-model-detail", kwargs={"owner": obj.owner.username, "name": obj.name})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ModelUpdateSerializer(ModelSerializer):
    protected_fields = ModelSerializer.protected_fields + ("name",)

    class Meta(ModelSerializer.Meta):
        read_only_fields = ["name", "download_count", "created_at", "updated_at"]


class FileSerializer(serializers.ModelSerializer):
    sha256 = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    format = serializers.CharField(read_only=True)
    can_run_code = serializers.BooleanField(read_only=True, help_text="Loading it can run code (pickle family).")
    scan_findings = serializers.ListField(child=serializers.CharField(), read_only=True)
    warning = serializers.CharField(
        source="format_warning", read_only=True,
        help_text="Set when the bytes match no known format, or not the format the file's name claims.",
    )  # fmt: skip
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ModelFile
        fields = [
            "path", "size", "sha256", "format", "warning", "scan_status", "scan_findings", "scanned_at", "can_run_code",
            "download_url", "created_at",
        ]  # fmt: skip
        read_only_fields = ["scan_status", "scan_findings", "scanned_at"]

    @extend_schema_field(serializers.URLField())
    def get_download_url(self, obj) -> str:
        version = obj.version
        model = version.model
        path = reverse(
            "api-file-detail",
            kwargs={"owner": model.owner.username, "name": model.name, "version": version.version, "path": obj.path},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class FileUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    path = serializers.CharField(required=False, allow_blank=True, max_length=1024)


class MetricValueField(serializers.FloatField):
    """A number; DRF's FloatField would take `true` as 1.0, which is no metric."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class SignatureSpecSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    shape = serializers.ListField(child=serializers.IntegerField(allow_null=True), required=False)
    labels = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text="On an output: the class names, in class-index order (index 0 first).",
    )


class SignatureSerializer(serializers.Serializer):
    inputs = SignatureSpecSerializer(many=True, required=False)
    outputs = SignatureSpecSerializer(many=True, required=False)


class VersionSerializer(ReadOnlyFieldsMixin, serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    files = FileSerializer(many=True, read_only=True)
    params = serializers.DictField(required=False)
    reported_metrics = serializers.DictField(child=MetricValueField(), required=False)
    signature = JSONField(required=False)  # the registry's: JSON text in a form body is checked too
    deprecated = serializers.SerializerMethodField()
    aliases = serializers.SerializerMethodField(help_text="The names of the aliases pointing at this version.")
    warnings = serializers.SerializerMethodField(
        help_text="Sentences to heed before using the version (an alias pointing at it though it is deprecated)."
    )
    is_prerelease = serializers.BooleanField(
        read_only=True, help_text="A pre-release (1.2.0-rc.1): never the model's latest_version."
    )
    url = serializers.SerializerMethodField()

    protected_fields = (
        "status",
        "is_prerelease",
        "deprecation_reason",
        "files",
        "created_by",
        "created_at",
        "submitted_at",
        "published_at",
        "download_count",
        "sha256",
        "aliases",
        "warnings",
        "url",
    )

    class Meta:
        model = ModelVersion
        fields = [
            "version",
            "is_prerelease",
            "status",
            "deprecated",
            "deprecation_reason",
            "aliases",
            "warnings",
            "changelog",
            "params",
            "reported_metrics",
            "signature",
            "files",
            "created_by",
            "created_at",
            "submitted_at",
            "published_at",
            "download_count",
            "url",
        ]
        read_only_fields = [
            "status",
            "deprecation_reason",
            "created_at",
            "submitted_at",
            "published_at",
            "download_count",
        ]
        extra_kwargs = {"version": {"validators": []}}

    def validate_version(self, value: str) -> str:
        try:
            return parse_version(value).text
        except InvalidVersion as error:
            raise serializers.ValidationError(str(error)) from None

    def get_deprecated(self, obj) -> bool:
        return obj.is_deprecated

    def _alias_names(self, obj) -> list[str]:
        """Read once per version for both fields: from the list's prefetch, or one query."""
        names = self.__dict__.setdefault("_alias_names_read", {})
        if obj.pk not in names:
            names[obj.pk] = aliases_pointing_at(obj)
        return names[obj.pk]

    def get_aliases(self, obj) -> list[str]:
        return self._alias_names(obj)

    def get_warnings(self, obj) -> list[str]:
        return [warning for name in self._alias_names(obj) if (warning := alias_warning(name, obj))]

    @extend_schema_field(serializers.URLField())
    def get_url(self, obj) -> str:
        model = obj.model
        path = reverse(
            "api-version-detail",
            kwargs={"owner": model.owner.username, "name": model.name, "version": obj.version},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class VersionUpdateSerializer(VersionSerializer):
    protected_fields = VersionSerializer.protected_fields + ("version",)

    class Meta(VersionSerializer.Meta):
        read_only_fields = VersionSerializer.Meta.read_only_fields + ["version"]


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"})
    name = serializers.CharField(max_length=100, required=False, default="API token")
    expires_in_days = serializers.IntegerField(required=False, min_value=1, max_value=3650, allow_null=True)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    name = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)


class AliasSerializer(serializers.ModelSerializer):
    version = serializers.CharField(source="version.version", read_only=True)
    version_status = serializers.CharField(source="version.status", read_only=True)
    updated_by = serializers.CharField(source="updated_by.username", read_only=True, default=None)
    warning = serializers.SerializerMethodField(
        help_text="Set when the version the alias points at was deprecated since."
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = ModelAlias
        fields = ["name", "version", "version_status", "protected", "warning", "updated_by", "updated_at", "url"]
        read_only_fields = fields

    def get_warning(self, obj) -> str | None:
        return alias_warning(obj.name, obj.version)

    @extend_schema_field(serializers.URLField())
    def get_url(self, obj) -> str:
        model = obj.model
        path = reverse(
            "api-alias-detail", kwargs={"owner": model.owner.username, "name": model.name, "alias": obj.name}
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class AliasSetSerializer(serializers.Serializer):
    version = serializers.CharField(
        max_length=80, help_text="The published version to point at: `1.2.0`, or another alias (`@staging`)."
    )
    protected = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Protect the alias (only a reviewer may then move it); leave out to keep the flag.",
    )


class AliasChangeSerializer(serializers.ModelSerializer):
    from_version = serializers.CharField(source="from_label", read_only=True, allow_null=True)
    to_version = serializers.CharField(
        source="to_label", read_only=True, allow_null=True, help_text="null: the alias was deleted."
    )
    actor = serializers.CharField(source="actor_username", read_only=True)

    class Meta:
        model = AliasChange
        fields = ["alias", "action", "from_version", "to_version", "protected", "actor", "at"]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["from_version"] = data["from_version"] or None
        data["to_version"] = data["to_version"] or None
        return data


class AliasChangePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AliasChangeSerializer(many=True)


class AliasPointSerializer(serializers.Serializer):
    alias = serializers.CharField()
    at = serializers.DateTimeField()
    version = serializers.CharField(allow_null=True, help_text="null: the alias pointed nowhere then.")
