from django.apps import AppConfig


class ProtocolsAppConfig(AppConfig):
    """The foreign protocols: entry points that speak another tool's API (MLflow's REST
    protocol under /mlflow) and call the services of the apps below, like any view."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "protocols_app"
    verbose_name = "Foreign protocols (MLflow)"
