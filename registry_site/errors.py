"""Domain errors: raised by services with a sentence a user can act on.

The API's exception handler and the web views turn them into the JSON error body
(`{"error": code, "detail": sentence}`) or a form error; the status says what kind of
problem it is.
"""

from django.core.exceptions import ValidationError


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, detail: str, *, code: str | None = None, field: str | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.field = field


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class InsufficientStorage(DomainError):
    status = 507
    code = "insufficient_storage"


class Unavailable(DomainError):
    status = 503
    code = "unavailable"


def full_clean(instance, exclude: list[str] | None = None) -> None:
    """Run a model instance's own validation and raise the first problem as a DomainError."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        label = "" if field == "__all__" else f"{field}: "
        raise DomainError(f"{label}{messages[0]}", field=None if field == "__all__" else field) from None
