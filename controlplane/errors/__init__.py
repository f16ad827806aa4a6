"""The one family of errors services raise; the API turns each into `{code, message}`."""

from __future__ import annotations

from typing import Any

from controlplane.errors import codes as error_codes


class ApplicationError(Exception):
    """A request the service refuses; nothing has been written when it is raised."""

    code = error_codes.INVALID_REQUEST

    def __init__(
        self, message: str, *, code: str | None = None, field: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        self.extra = extra
        self.others: list[ApplicationError] = []  # more errors of the same request

    @classmethod
    def gathered(cls, errors: list[ApplicationError]) -> ApplicationError:
        """One error for several: the first's code and message, each one in `errors`."""
        first = errors[0]
        first.others = errors[1:]
        return first

    @property
    def status_code(self) -> int:
        return error_codes.status_of(self.code)

    def as_body(self) -> dict[str, Any]:
        body = {"code": self.code, "message": self.message, **self.extra}
        listed = [error for error in (self, *self.others) if error.field is not None]
        if listed:  # the same shape as a serializer's field errors
            body["errors"] = [
                {"field": error.field, "code": error.code, "message": error.message}
                for error in listed
            ]
        return body


class InvalidRequest(ApplicationError):
    """A field the serializer cannot judge alone (it depends on another one)."""

    code = error_codes.INVALID_REQUEST


class InvalidIdentifier(ApplicationError):
    """An id holding a control or format character (controlplane.domain.identifiers)."""

    code = error_codes.INVALID_ID


class TooManyItems(ApplicationError):
    """A request beyond a per-request cap (worlds, batches, orders, strategies)."""

    code = error_codes.TOO_MANY_ITEMS


class NumberTooLarge(ApplicationError):
    """A number a double cannot hold (JSON allows it; the records and the checks cannot)."""

    code = error_codes.NUMBER_TOO_LARGE


class InvalidDag(ApplicationError):
    code = error_codes.INVALID_DAG


class ChecksumMismatch(ApplicationError):
    code = error_codes.CHECKSUM_MISMATCH


class WorldIdsRequired(ApplicationError):
    code = error_codes.WORLD_IDS_REQUIRED


class InvalidContext(ApplicationError):
    code = error_codes.INVALID_CONTEXT


class InvalidOrders(ApplicationError):
    code = error_codes.INVALID_ORDERS


class ShadowOrdersBlocked(ApplicationError):
    code = error_codes.SHADOW_ORDERS_BLOCKED


class DuplicateSubmission(ApplicationError):
    code = error_codes.DUPLICATE

    def __init__(self, strategy_id: str | None) -> None:
        # Without the id when the caller may not see the existing strategy (docs/API.md).
        extra = {"strategy_id": strategy_id} if strategy_id is not None else {}
        super().__init__("a strategy with the same DAG was already submitted", **extra)
        self.strategy_id = strategy_id


class Forbidden(ApplicationError):
    """The credential is not allowed this world or scope (its limits, set in the admin)."""

    code = error_codes.FORBIDDEN
