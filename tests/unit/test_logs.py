"""Log lines: one JSON object each, context fields bound per request or job, secrets masked whatever wrote them."""
from __future__ import annotations

import io
import json
import logging

import pytest
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from config.infra import logs
from config.infra.logs import bound, current, make_handler, redact

SECRET = "Zq3-wX9_kLmN0pQrStUvWxYz0123456789abcdefGhI"


@pytest.mark.parametrize("line, leaked", [
    (f"POST /webhooks/boond/acme/{SECRET} HTTP/1.1 202", SECRET),
    (f"http://127.0.0.1:8000/webhooks/salesforce/acme-sf/{SECRET}?x=1", SECRET),
    ("Authorization: Bearer 00Dxx0000001gPL!AQ4AQFakeToken.value_123", "AQ4AQFakeToken"),
    ('{"access_token": "tok-abc.123", "refresh_token": "5Aep861secret", "instance_url": "https://x"}', "tok-abc"),
    ('{"access_token": "tok-abc.123", "refresh_token": "5Aep861secret"}', "5Aep861secret"),
    ("grant_type=refresh_token&refresh_token=5AepFORM&client_secret=csecret-value", "5AepFORM"),
    ("grant_type=refresh_token&refresh_token=5AepFORM&client_secret=csecret-value", "csecret-value"),
    ("GET /boond/install?signedRequest=eyJhbGciOi.payload-part.sig&x=1", "payload-part"),
    ('{"signedRequest": "abc.def"}', "abc.def"),
    ("session 00D000000000001!AQkAQSessionTokenValue123 expired", "AQkAQSessionTokenValue123"),
    ("flow secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    ("X-Jwt-App: eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyVG9rZW4iOiJ4In0.c2lnbmF0dXJlLXZhbHVl", "eyJ1c2VyVG9rZW4iOiJ4In0"),
])
def test_redact_masks_every_kind_of_secret(line, leaked):
    assert leaked not in redact(line)


def test_redact_keeps_what_an_operator_needs():
    line = "host write created 100/natural.handover due 2026-03-25 (tenant acme, refresh_token rotation on)"
    assert redact(line) == line


def _every_pattern(text: str) -> str:
    """`redact` without its shortcuts: every pattern, always (the canonical spelling of a path after the first)."""
    text = logs._WEBHOOK_PATH.sub(r"\1[secret]", text)
    text = logs._WORD.sub(logs._canonical_word, text)
    for pattern, replacement in [(logs._SURVEY_PATH, r"\1[token]"),
                                 (logs._QUERY, r"\1[redacted]"), (logs._JWT, "[jwt]"), (logs._BEARER, r"\1[token]"),
                                 (logs._NAMED, r"\1[redacted]"), (logs._ORG_SESSION, "[token]"),
                                 (logs._WHSEC, "[secret]")]:
        text = pattern.sub(replacement, text)
    return text


_PIECES = ["/webhooks/boond/acme/", "/webhooks/salesforce/a-1/", "/survey/", "?a=", "&t=", "?code=", "eyJ", "abc.",
           "Bearer ", "BEARER\t", "access_token", "client_secret", "signedRequest", '"', "'", "\\", ": ", "=",
           "00D000000000001!", "whsec_", "Zq3-wX9_kLmN0pQrStUvWxYz0123456789", " ", "/", "x", "ſ", "K", "İ",
           "/survey/tok3n-value", "?t=link.token&x=1", "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyVG9rZW4iOiJ4In0.c2lnbmF0dXJl",
           "bearer abc.def", "refresh_token: 5Aep861", "00D000000000001!AQkAQSessionTokenValue123",
           "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
_LINES = [f"POST /webhooks/boond/acme/{SECRET} HTTP/1.1 202", "GET /survey/abc?t=x HTTP/1.1",
          "X-Jwt-App: eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyVG9rZW4iOiJ4In0.c2lnbmF0dXJlLXZhbHVl",
          "link token eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl",
          "Authorization: BeArEr 00Dxx0000001gPL!AQ4AQFakeToken.value_123", '{"client_secret"= "x"}',
          "session 00D000000000001!AQkAQSessionTokenValue123 expired", "flow whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La",
          "POST /webhooks/boond/<tenant_id>/<secret> 202", "plain line, nothing to hide"]


@pytest.mark.parametrize("line", _LINES)
def test_redact_shortcuts_give_what_every_pattern_gives_on_known_lines(line):
    assert redact(line) == _every_pattern(line)


@hsettings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=6)), max_size=12).map("".join))
def test_redact_shortcuts_give_what_every_pattern_gives(text):
    assert redact(text) == _every_pattern(text)


def _json_lines(emit) -> list[dict]:
    buffer = io.StringIO()
    logger = logging.getLogger("tests.logs")
    handler = make_handler(buffer)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_each_record_is_one_json_line_with_bound_fields_and_extras():
    def emit(log):
        with bound(request_id="r-1"):
            with bound(job_id="j-1"):
                log.info("two\nlines %s", "here", extra={"op": "created", "mission": "100"})
            log.warning("after the job")
        log.info("outside")

    first, second, third = _json_lines(emit)
    assert first["msg"] == "two\nlines here" and first["level"] == "INFO" and first["logger"] == "tests.logs"
    assert (first["request_id"], first["job_id"], first["op"], first["mission"]) == ("r-1", "j-1", "created", "100")
    assert second["request_id"] == "r-1" and "job_id" not in second
    assert "request_id" not in third and current("request_id") is None


def test_exceptions_and_extra_fields_are_redacted_too():
    def emit(log):
        try:
            raise ValueError(f"bad answer {{\"access_token\": \"tok-in-exception\"}} /webhooks/boond/t1/{SECRET}")
        except ValueError:
            log.exception("failed", extra={"url": f"/webhooks/boond/t1/{SECRET}", "headers": {"x": "Bearer abc.def"}})

    (line,) = _json_lines(emit)
    text = json.dumps(line)
    assert SECRET not in text and "tok-in-exception" not in text and "abc.def" not in text
    assert "ValueError" in line["exc"] and line["url"] == "/webhooks/boond/t1/[secret]"


@hsettings(max_examples=2000, deadline=None)
@given(st.one_of(st.floats(min_value=0, max_value=4e9, allow_nan=False),
                 st.integers(min_value=0, max_value=4_000_000_000).map(lambda s: s + 0.9995),
                 st.integers(min_value=0, max_value=4_000_000_000).map(lambda s: s + 0.9999996)))
def test_a_lines_time_is_what_datetime_writes_though_formatted_once_a_second(created):
    from datetime import datetime, timezone

    assert logs.timestamp(created) == datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds")
