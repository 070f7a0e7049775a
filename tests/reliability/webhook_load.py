"""Send many webhooks from several threads and keep, for each, its answer and when it was sent and answered."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests


def boond_event(event_id: str, delivery: str) -> dict:
    """A Boond delivery-update event (references only), as Boond sends it."""
    return {"data": {"id": event_id, "type": "webhookevent", "attributes": {"type": "update"},
                     "relationships": {"dependsOn": {"data": {"id": delivery, "type": "delivery"}}}}}


def flow_event(event_id: str, org_id: str, record: str) -> dict:
    """A Salesforce Flow HTTP callout (unsigned) for one record."""
    return {"organizationId": org_id, "recordId": record, "eventId": event_id}


def sf_record_id(i: int) -> str:
    """An 18-character Mission__c id, distinct for each i."""
    return f"a0X{i:012d}AAA"


@dataclass
class Answer:
    """One delivery attempt: the HTTP status (0 when no answer) and its send/answer times (monotonic)."""

    status: int
    sent: float
    answered: float


@dataclass
class Load:
    """Webhooks for distinct missions, sent concurrently; `on_answer` sees each answer as it arrives."""

    # `target(i)` gives event i's (URL, JSON body); a redelivery sends the same body again, as hosts do

    target: object
    count: int
    senders: int = 8
    answers: dict[int, list[Answer]] = field(default_factory=dict)
    on_answer: object = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, session: requests.Session, i: int) -> Answer:
        """Deliver event i once (a redelivery reuses its event id, as hosts do)."""
        sent = time.monotonic()
        try:
            url, body = self.target(i)
            status = session.post(url, json=body, timeout=60).status_code
        except requests.RequestException:
            status = 0
        answer = Answer(status, sent, time.monotonic())
        with self._lock:
            self.answers.setdefault(i, []).append(answer)
        if self.on_answer:
            self.on_answer(i, answer)
        return answer

    def run(self, indexes=None) -> None:
        """Send every event (or the given ones) once, `senders` at a time."""
        local = threading.local()

        def one(i: int) -> None:
            if not hasattr(local, "session"):
                local.session = requests.Session()
            self.post(local.session, i)

        with ThreadPoolExecutor(self.senders) as pool:
            list(pool.map(one, range(self.count) if indexes is None else indexes))

    def last(self, i: int) -> int:
        """The status of the latest attempt of event i."""
        return self.answers[i][-1].status

    def acknowledged(self) -> set[int]:
        """Events whose latest attempt got a 2xx (202 queued or coalesced, 204 already seen)."""
        return {i for i, tries in self.answers.items() if 200 <= tries[-1].status < 300}

    def statuses(self) -> dict[int, int]:
        """How many attempts got each status."""
        counts: dict[int, int] = {}
        for tries in self.answers.values():
            for answer in tries:
                counts[answer.status] = counts.get(answer.status, 0) + 1
        return counts
