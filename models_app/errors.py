"""Domain errors: raised by services with a sentence a user can act on.

The API's exception handler and the web views turn them into the JSON error body
(`{"error": code, "detail": sentence}`) or a form error; the status says what kind of
problem it is.
"""


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
