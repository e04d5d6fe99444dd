from django.contrib.admin.apps import AdminConfig


class RegistryAdminConfig(AdminConfig):
    """django.contrib.admin with the registry's site: every admin change is audited."""

    default_site = "registry_site.admin.RegistryAdminSite"
