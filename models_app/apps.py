from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ModelsAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "models_app"

    def ready(self) -> None:
        from . import search

        # Not a write of the catalog: the index's structure, which a migration can drop.
        post_migrate.connect(search.index_repair, sender=self, dispatch_uid="models_app.search.index_repair")
