"""Domain errors: a stable machine code, a human message and, where one input is at fault, the field name."""
from __future__ import annotations


class DomainError(Exception):
    """A command the plant's rules refuse. Nothing is recorded when one is raised.

    ``code`` is stable (clients switch on it), ``message`` is for people, ``field`` names the
    input at fault when there is one. ``invalid`` marks input that is wrong on its face (a negative
    quantity) as opposed to input that conflicts with the current state (an expired lot).
    """

    def __init__(self, code: str, message: str, *, field: str | None = None, invalid: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field
        self.invalid = invalid

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


def invalid(code: str, message: str, field: str) -> DomainError:
    return DomainError(code, message, field=field, invalid=True)
