"""Every admin page a person reaches, crawled in headless Chromium in French and English: no internal code shows
(issue #27, point 3). What a page renders (its visible text: a closed "details" disclosure hides its raw values) is
checked against the internal vocabulary: case and role identifiers, step ids, offsets in code form, `typeOf`,
Python and JSON reprs, and English words on a French page."""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

import pytest

from tests.browser.conftest import screenshot
from tests.e2e.test_bench_pages import _bench_story
from webhooks.admin.auth import admin_token

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # business_engineer, client_contact, done_action_types…
STEP_ID = re.compile(r"\b(?:natural|client|consultant|bench|cancellation|extension|restaffed|custom)\.[a-z_]+\b")
CODES = re.compile(r"\b(?:typeOf|None|True|False|null|natural|business /|calendar /)\b|business /|\{'|\['|\{\"|"
                   r"object at 0x|Traceback|[A-Za-z]+Error\b")
ENGLISH = re.compile(r"\b(?:the|and|with|not|mapped|proposed|entity|delivery|before|after|none|nobody|kind|step|"
                     r"saved|save|retry|days?|late|due|owner)\b", re.I)
EMAIL_OR_URL = re.compile(r"\S+@\S+|https?://\S+")
SKIP = ("/admin/bench.csv", "/admin/login", "logout")


def _problems(text: str, lang: str) -> list[str]:
    text = EMAIL_OR_URL.sub(" ", text)
    found = [m.group(0) for rx in (SNAKE, STEP_ID, CODES) for m in rx.finditer(text)]
    if lang == "fr":
        found += [f"en: {m.group(0)}" for m in ENGLISH.finditer(text)]
    return sorted(set(found))


def _crawl(browser, start: str, lang: str, limit: int = 60) -> dict[str, list[str]]:
    """Visit every admin page linked from `start` (same origin, GET links), once per path and query shape."""
    origin = "{0.scheme}://{0.netloc}".format(urlparse(start))
    queue, seen, out = [start], set(), {}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        parts = urlparse(url)
        path = "/admin/playbook/*" if parts.path.startswith("/admin/playbook/") else parts.path
        shape = (path, tuple(sorted(k.split("=")[0] for k in parts.query.split("&") if not k.startswith("a="))))
        if shape in seen or any(s in parts.path for s in SKIP):
            continue
        seen.add(shape)
        browser.get(url)
        text = browser.execute_script("return document.body ? document.body.innerText : ''")
        issues = _problems(text, lang)
        if issues:
            out[parts.path + "?" + "&".join(q for q in parts.query.split("&") if not q.startswith("a="))] = issues
        for href in browser.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"):
            target = urljoin(url, href)
            if target.startswith(origin + "/admin") and f"lang={'en' if lang == 'fr' else 'fr'}" not in target:
                queue.append(target)
    return out


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_admin_page_shows_an_internal_code(stack, browser, lang):
    mission = _bench_story(stack)
    token = admin_token(stack.tenant_id, "test")
    start = f"{stack.web.url}/admin/?a={token}&lang={lang}"
    extra = [f"{stack.web.url}/admin/{p}?a={token}&lang={lang}" for p in
             (f"preview?mission={mission}", f"timeline?mission={mission}", "no-such-page", "setup?step=owners",
              "setup?step=place", "setup?step=activate")]
    found = {}
    for url in [start, *extra]:
        found.update(_crawl(browser, url, lang))
    screenshot(browser, f"crawler-last-{lang}")
    assert found == {}, "\n".join(f"{page}: {', '.join(words)}" for page, words in sorted(found.items()))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_salesforce_admin_page_shows_an_internal_code(sf_stack, browser, lang):
    from datetime import date

    from config.infra import clock
    from tests.e2e.helpers import settle

    clock.pin(date(2026, 3, 2))
    sf_stack.new_mission(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    token = admin_token(sf_stack.tenant.id, "test")
    found = {}
    for path in ("", "mapping", "setup?step=owners", "setup?step=place"):
        found.update(_crawl(browser, f"{sf_stack.web.url}/admin/{path}{'&' if '?' in path else '?'}a={token}&lang={lang}",
                            lang, limit=12))
    assert found == {}, "\n".join(f"{page}: {', '.join(words)}" for page, words in sorted(found.items()))
