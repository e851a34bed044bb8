"""Errors raised by operations when a rule says no."""


class DomainError(Exception):
    """A rule of the fund refused an action.

    The message is shown to a person as it is, so it says what was refused and what they can do about it.
    """

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.message = message
        #: The form field the error belongs to, when there is one.
        self.field = field

    def __str__(self):
        return str(self.message)


class NotFound(DomainError):
    """A referenced thing does not exist (shown as 404 where a view meets it)."""


class Conflict(DomainError):
    """The request clashes with the current state (a stale edit, a repeated request with other data)."""
