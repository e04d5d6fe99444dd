from django.apps import AppConfig


class ReviewsAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reviews_app"
    verbose_name = "Reviews"

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any app's models.
        from evaluations_app.signals import evaluation_finished, file_scanned
        from models_app.pages import register_page_part
        from models_app.signals import alias_moved
        from registry_site.audit import audit_hook_register

        from . import pages, receivers, services
        from .webhooks import receivers as webhook_receivers

        register_page_part("version", templates=pages.VERSION_TEMPLATES, context=pages.version_part)
        register_page_part("model", templates=pages.MODEL_TEMPLATES, context=pages.model_part)
        evaluation_finished.connect(receivers.evaluation_finished, dispatch_uid="reviews_app.evaluation_finished")
        # The webhooks' events from the apps below.
        evaluation_finished.connect(
            webhook_receivers.evaluation_finished, dispatch_uid="reviews_app.webhooks.evaluation_finished"
        )
        file_scanned.connect(webhook_receivers.file_scanned, dispatch_uid="reviews_app.webhooks.file_scanned")
        alias_moved.connect(webhook_receivers.alias_moved, dispatch_uid="reviews_app.webhooks.alias_moved")
        # Every app's own changes (a model deleted, a token revoked, an edit in the admin)
        # are written to this app's audit trail, in the transaction of the change.
        audit_hook_register(services.audit_record)
