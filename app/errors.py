"""Typed domain errors. Services raise them; one handler in ``app.web.errors`` renders
them as JSON (``/api/...``) or as an HTML page. Messages name the offending value.

A message is an English template with ``%(name)s`` placeholders and its values as
keyword arguments, so it can be shown in the reader's language::

    raise Unprocessable(
        _("timezone %(zone)s is not an IANA time zone"), field="timezone", zone=repr(value)
    )

where ``_`` is ``app.i18n.mark`` (it marks the template for the catalogue and returns it
unchanged). ``message`` is the English text (the JSON API's ``detail``, logs, the CLI);
``text`` is the message in the request's language (pages), translated by ``app.i18n``
when the catalogue has the template and in English otherwise."""

from __future__ import annotations

from collections.abc import Mapping

from app.i18n import gettext


class AppError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, **params: object) -> None:
        self.template = message
        self.field = field
        # ``%(field)s`` names the field in a template; other values come as keywords.
        self.params: Mapping[str, object] = {"field": field, **params}
        self.message = self._fill(message)
        super().__init__(self.message)

    def _fill(self, template: str) -> str:
        if len(self.params) == 1 and "%(field)s" not in self.template:
            return template  # a finished message: any % in it is literal
        return template % self.params

    @property
    def text(self) -> str:
        """The message in the current language."""
        try:
            return self._fill(gettext(self.template))
        except (KeyError, TypeError, ValueError):  # a catalogue entry that does not fit
            return self.message


class BadRequest(AppError):
    status_code = 400


class Unauthorized(AppError):
    status_code = 401


class Forbidden(AppError):
    status_code = 403


class NotFound(AppError):
    status_code = 404


class Conflict(AppError):
    status_code = 409


class Unprocessable(AppError):
    status_code = 422


class TooManyRequests(AppError):
    status_code = 429


class ServiceUnavailable(AppError):
    status_code = 503


class PayloadTooLarge(AppError):
    status_code = 413
