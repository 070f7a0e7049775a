"""Logging set-up with secrets redacted from every record (webhook URLs carry a tenant secret)."""
from __future__ import annotations

import logging
import re

_WEBHOOK_PATH = re.compile(r"(/webhooks/[a-z]+/[a-z0-9-]+/)[^/\s?\"']+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_SURVEY_PATH = re.compile(r"(/survey/)[^/\s?\"'\\]+")  # a survey link is its respondent's credential


def redact(text: str) -> str:
    """Mask webhook secrets, survey link tokens and JWTs in a log line."""
    text = _SURVEY_PATH.sub(r"\1[token]", _WEBHOOK_PATH.sub(r"\1[secret]", text))
    return _JWT.sub("[jwt]", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def setup_logging(level: str = "INFO") -> None:
    """Root logging with the redacting filter on every handler (werkzeug and gunicorn included)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logging.getLogger(name).addFilter(RedactingFilter())
