from django.apps import AppConfig


class EvaluationsAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "evaluations_app"
    verbose_name = "Evaluations"

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any app's models.
        from models_app.pages import register_page_part
        from models_app.signals import file_uploaded

        from . import pages, receivers
        from .engine import metrics  # noqa: F401  scipy and scikit-learn load with the process, not on a first page

        register_page_part("model", templates=pages.MODEL_TEMPLATES, context=pages.model_part)
        register_page_part("version", templates=pages.VERSION_TEMPLATES, context=pages.version_part)
        register_page_part("review", templates=pages.REVIEW_TEMPLATES, context=pages.review_part)
        file_uploaded.connect(receivers.file_uploaded, dispatch_uid="evaluations_app.file_uploaded")
