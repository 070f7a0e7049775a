"""Logging: one JSON object per line, a request/job id carried by a context variable, secrets redacted.

Webhook URLs carry a tenant secret; host answers and headers may carry tokens. Every record is
redacted before it is written, whatever the handler (werkzeug, gunicorn, rq or ours).
"""
from __future__ import annotations

import json
import logging
import math
import re
import sys
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import datetime, timezone
import unicodedata
from urllib.parse import unquote

# whatever follows /webhooks/<x>/<y>/, whatever the case, the characters or an encoded slash (%2F) between them
_SEP = r"(?:/|%2f)"
_SEGMENT = r"(?:(?!%2f)[^/\s?#\"'\\])+"
_WEBHOOKS = "".join(f"[{c}{chr(ord(c) + 0xFEE0)}]" for c in "webhooks")  # ASCII or full-width letters
_WEBHOOK_PATH = re.compile(  # (a route template's literal `<secret>` is left as it is)
    rf"(?i)(/{_WEBHOOKS}{_SEP}{_SEGMENT}{_SEP}{_SEGMENT}{_SEP})(?!<secret>(?![^\s?#\"'\\]))[^\s?#\"'\\]+")
# the same path in any spelling a server may accept: percent-encoded (twice), backslashes, repeated slashes,
# full-width letters. A word holding such a spelling is written in its canonical form, its secret masked (issue #30)
_WORD = re.compile(r"[^\s\"']+")
_CANONICAL_PATH = re.compile(r"(?i)(/webhooks/[^/\s]+/[^/\s]+/)(?!<secret>(?![^\s?#\"']))[^\s\"']+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,}")  # JWTs and itsdangerous tokens
_QUERY = re.compile(r"([?&](?:a|t|u|code|state|csrf|form_token)=)[^&\s\"'#\\]+")  # admin, connect and OAuth links
_SURVEY_PATH = re.compile(r"(/survey/)[^/\s?\"'\\]+")  # a survey link is its respondent's credential
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=!-]+")
_NAMED = re.compile(r"(?i)(\b(?:access_token|refresh_token|id_token|client_secret|signed_?request|code_verifier)"
                    r"(?:\\*[\"'])?\s*[:=]\s*(?:\\*[\"'])?)[^\"'&\s,;}\\]+")
_ORG_SESSION = re.compile(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]{16,}")  # an org id, "!", a session token (Salesforce's)
_WHSEC = re.compile(r"\bwhsec_[A-Za-z0-9+/=]{8,}")
# No format of ours shows a record's source line or process (the JSON lines carry their own fields): the logging
# HOWTO's "Optimization" settings spare every record the frame walk and the process lookups
logging._srcfile = None  # type: ignore[attr-defined]
logging.logProcesses = False
logging.logMultiprocessing = False
_FIELDS: ContextVar[dict] = ContextVar("intermission_log_fields", default={})  # noqa: B039 (never mutated: set() copies)
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


_CLEAN: dict[str, None] = {}  # short texts found to hold nothing to mask (the request log line's, mostly): kept as is


def redact(text: str) -> str:
    """Mask webhook secrets, JWTs, bearer tokens, OAuth token/secret values, signedRequest values and link tokens."""
    if text in _CLEAN:
        return text
    clean = _redact(text)
    if clean == text and len(text) <= 200:  # only texts with no secret are remembered
        if len(_CLEAN) >= 4096:
            _CLEAN.clear()
        _CLEAN[text] = None
    return clean


def _redact(text: str) -> str:
    # each pattern runs only when the text holds what every match of it contains (a literal part of the pattern):
    # the same result as running them all, at a fraction of the cost for the usual line (one per request)
    lowered = text.lower()
    if "/webhook" in lowered or not text.isascii():
        text = _WEBHOOK_PATH.sub(r"\1[secret]", text)
    if _odd(text):
        text = _WORD.sub(_canonical_word, text)
    if "/survey/" in text:
        text = _SURVEY_PATH.sub(r"\1[token]", text)
    if "=" in text:
        text = _QUERY.sub(r"\1[redacted]", text)
    if "eyJ" in text:
        text = _JWT.sub("[jwt]", text)
    if "bearer" in text.lower():
        text = _BEARER.sub(r"\1[token]", text)
    if ":" in text or "=" in text:
        text = _NAMED.sub(r"\1[redacted]", text)
    if "!" in text:
        text = _ORG_SESSION.sub("[token]", text)
    return _WHSEC.sub("[secret]", text) if "whsec_" in text else text


def _odd(text: str) -> bool:
    """Whether a text may hold a path in a non-canonical spelling (encoded, backslashes, `//`, non-ASCII)."""
    return "%" in text or "\\" in text or "//" in text.replace("://", "") or not text.isascii()


def canonical_path(word: str) -> str:
    """A URL path as a lenient server reads it: percent-decoded (up to three times), NFKC letters, `\\` as `/`,
    repeated slashes as one."""
    for _ in range(3):
        decoded = unquote(word)
        if decoded == word:
            break
        word = decoded
    word = unicodedata.normalize("NFKC", word).replace("\\", "/")
    return re.sub(r"/{2,}", "/", word)


def _canonical_word(match: re.Match) -> str:
    word = match.group(0)
    if not _odd(word):
        return word  # canonical already: _WEBHOOK_PATH has seen it
    canonical = canonical_path(word)
    if "/webhooks/" not in canonical.lower():
        return word
    masked = _CANONICAL_PATH.sub(r"\1[secret]", canonical)
    return word if masked == canonical else masked


_PLAIN = (int, float, bool, type(None))  # field values written as they are


def _scrub(value):
    """Redact every string inside a log field value."""
    kind = type(value)
    if kind is str:
        return redact(value)
    if kind in _PLAIN:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_scrub(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(value))


def push_fields(**fields) -> Token:
    """Add fields (request_id, job_id…) to every log line of this context until `pop_fields(token)`."""
    return _FIELDS.set({**_FIELDS.get(), **{k: v for k, v in fields.items() if v is not None}})


def pop_fields(token: Token) -> None:
    """Forget the fields pushed with `token` (and any pushed after it)."""
    _FIELDS.reset(token)


@contextmanager
def bound(**fields):
    """Add fields to every log line written inside the block, in this context only."""
    token = push_fields(**fields)
    try:
        yield
    finally:
        pop_fields(token)


def current(name: str):
    """A field bound by `bound` in the current context (None when unset)."""
    return _FIELDS.get().get(name)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secrets masked (for handlers that do not format as JSON)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg, the context fields and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {"ts": timestamp(record.created), "level": record.levelname, "logger": record.name,
               "msg": redact(record.getMessage())}
        for key, value in _FIELDS.get().items():
            doc[key] = _scrub(value)
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in doc and key[:1] != "_":
                doc[key] = _scrub(value)
        if record.exc_info:
            doc["exc"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            doc["stack"] = redact(self.formatStack(record.stack_info))
        return _ENCODE(doc)


# one encoder for every line (`json.dumps` with options builds a new one each call): keys in order, UTF-8 kept,
# anything else written as its `str`
_ENCODE = json.JSONEncoder(default=str, ensure_ascii=False).encode
_SECOND: tuple[int, str] = (-1, "")  # the last second written, and its text up to the seconds


def timestamp(created: float) -> str:
    """`created` (epoch seconds) as UTC ISO 8601 to the millisecond, as `datetime.isoformat(timespec="milliseconds")`
    writes it: the date and time are formatted once a second, not once a line."""
    global _SECOND
    fraction, whole = math.modf(created)  # rounded to the microsecond as `datetime.fromtimestamp` rounds it
    second, micro = int(whole), round(fraction * 1_000_000)
    if micro >= 1_000_000:
        second, micro = second + 1, micro - 1_000_000
    elif micro < 0:
        second, micro = second - 1, micro + 1_000_000
    kept = _SECOND
    if kept[0] != second:
        kept = _SECOND = (second, datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{kept[1]}.{micro // 1000:03d}+00:00"


class TextFormatter(logging.Formatter):
    """Plain lines for a terminal, secrets masked, context fields appended."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in _FIELDS.get().items())
        return redact(super().format(record) + (f" [{fields}]" if fields else ""))


def make_handler(stream=None, fmt: str = "json") -> logging.Handler:
    """A stream handler (stderr by default) with the JSON or text formatter and the redacting filter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    handler._intermission = True  # type: ignore[attr-defined]
    return handler


def setup_logging(level: str = "INFO", fmt: str | None = None) -> None:
    """Root logging through one of our handlers (JSON unless INTERMISSION_LOG_FORMAT=text); idempotent."""
    if fmt is None:
        from config.settings import get_settings

        fmt = get_settings().log_format
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_intermission", False)]:
        root.removeHandler(handler)
    root.addHandler(make_handler(fmt=fmt))
    root.setLevel(level)
    logging.captureWarnings(True)
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logging.getLogger(name).addFilter(RedactingFilter())


def gunicorn_logconfig(level: str = "INFO", fmt: str = "json") -> dict:
    """gunicorn's `logconfig_dict`: its error log and our app's records go to one JSON handler on stderr."""
    formatter = {"()": JsonFormatter} if fmt == "json" else {"()": TextFormatter}
    return {
        "version": 1, "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactingFilter}},
        "formatters": {"line": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line", "filters": ["redact"],
                                "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {"gunicorn.error": {"level": level, "handlers": [], "propagate": True},
                    # the app logs each request itself (route template, request id): no second line
                    "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True}},
    }
