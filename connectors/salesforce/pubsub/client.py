"""Salesforce Pub/Sub API client (gRPC): GetTopic, GetSchema cached by schema id, Subscribe with flow control.

Pub/Sub API guide: https://developer.salesforce.com/docs/platform/pub-sub-api/guide/intro.html
Authentication is call metadata (`accesstoken`, `instanceurl`, `tenantid`) from the tenant's OAuth tokens; the
caller refreshes the token on `PubSubAuthError` (gRPC UNAUTHENTICATED) and subscribes again.
"""
from __future__ import annotations

import io
import json
import queue
from dataclasses import dataclass, field
from typing import Iterator

import fastavro
import grpc

from connectors.errors import HostAuthError, HostError, HostNotFound, HostUnavailable
from connectors.salesforce.client import TokenProvider
from connectors.salesforce.pubsub import pubsub_pb2 as pb
from connectors.salesforce.pubsub import pubsub_pb2_grpc as pb_grpc

ENDPOINT = "api.pubsub.salesforce.com:7443"
MAX_REQUESTED = 100  # Salesforce serves at most 100 events per FetchRequest


class PubSubAuthError(HostAuthError):
    """UNAUTHENTICATED: the access token expired or was revoked; refresh it and subscribe again."""


class ReplayInvalid(HostError):
    """The replay id we resume from is invalid or older than the retention (72 h): start from the latest."""


@dataclass(frozen=True)
class ChangeEvent:
    """One decoded change event: which records changed how, and which fields (the bitmaps decoded)."""

    replay_id: bytes
    entity: str
    change_type: str  # CREATE, UPDATE, DELETE, UNDELETE, GAP_CREATE, …, GAP_OVERFLOW
    record_ids: list[str]
    changed_fields: frozenset[str]
    commit_timestamp: int  # epoch milliseconds
    change_origin: str = ""
    payload: dict = field(default_factory=dict, compare=False, repr=False)


def topic_for(sobject: str) -> str:
    """The change-event channel of an object: Mission__c → /data/Mission__ChangeEvent, Account → /data/AccountChangeEvent."""
    # https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_subscribe_channels.htm
    name = f"{sobject[:-3]}__ChangeEvent" if sobject.endswith("__c") else f"{sobject}ChangeEvent"
    return f"/data/{name}"


def decode_bitmap(bitmaps: list[str], schema: dict) -> frozenset[str]:
    """Field names from a change event's bitmap field (`changedFields`, `nulledFields`, `diffFields`).

    The first string is a hex bitmap over the schema's top-level fields (bit i set: the i-th field); a string
    `N-0xHEX` is a bitmap over the fields of the compound field at position N, named `Parent.Child`.
    """
    # https://developer.salesforce.com/docs/platform/pub-sub-api/guide/event-deserialization-considerations.html
    top, names = schema["fields"], set()
    for item in bitmaps or []:
        parent, _, hexa = item.rpartition("-")
        bits = int(hexa, 16)
        if parent:
            compound = top[int(parent)]
            record = next(t for t in _types(compound["type"]) if isinstance(t, dict) and t.get("type") == "record")
            fields, prefix = record["fields"], compound["name"] + "."
        else:
            fields, prefix = top, ""
        names.update(prefix + fields[i]["name"] for i in range(bits.bit_length()) if bits >> i & 1 and i < len(fields))
    return frozenset(names)


def _types(avro_type) -> list:
    return avro_type if isinstance(avro_type, list) else [avro_type]


class PubSubClient:
    """One org's Pub/Sub API channel, authenticated with the tenant's current access token."""

    host = "salesforce"

    def __init__(self, endpoint: str, tokens: TokenProvider, *, instance_url: str, org_id: str, secure: bool = True,
                 timeout: float = 10.0):
        self.tokens, self.instance_url, self.org_id, self.timeout = tokens, instance_url, org_id, timeout
        credentials = grpc.ssl_channel_credentials() if secure else None
        self.channel = grpc.secure_channel(endpoint, credentials) if secure else grpc.insecure_channel(endpoint)
        self.stub = pb_grpc.PubSubStub(self.channel)
        self.sent_token = ""
        self._schemas: dict[str, tuple[dict, object]] = {}

    def close(self) -> None:
        self.channel.close()

    def metadata(self) -> list[tuple[str, str]]:
        """The auth headers of every call, from the current access token."""
        self.sent_token = self.tokens.access_token()
        return [("accesstoken", self.sent_token), ("instanceurl", self.instance_url), ("tenantid", self.org_id)]

    def get_topic(self, topic: str) -> pb.TopicInfo:
        """GetTopic: the channel's info (can_subscribe, schema id); HostNotFound when the org has no such channel."""
        return self._unary(self.stub.GetTopic, pb.TopicRequest(topic_name=topic))

    def schema(self, schema_id: str) -> dict:
        """The Avro schema (as JSON) behind a schema id, asked once per id (GetSchema)."""
        return self._schema(schema_id)[0]

    def _schema(self, schema_id: str) -> tuple[dict, object]:
        if schema_id not in self._schemas:
            info = self._unary(self.stub.GetSchema, pb.SchemaRequest(schema_id=schema_id))
            raw = json.loads(info.schema_json)
            self._schemas[schema_id] = (raw, fastavro.parse_schema(raw))
        return self._schemas[schema_id]

    def decode(self, consumed: pb.ConsumerEvent) -> ChangeEvent:
        """A ConsumerEvent's Avro payload read with its schema, the header's bitmaps decoded."""
        raw, parsed = self._schema(consumed.event.schema_id)
        payload = fastavro.schemaless_reader(io.BytesIO(consumed.event.payload), parsed)
        header = payload.get("ChangeEventHeader") or {}
        return ChangeEvent(replay_id=consumed.replay_id, entity=header.get("entityName", ""),
                           change_type=header.get("changeType", ""), record_ids=list(header.get("recordIds") or []),
                           changed_fields=decode_bitmap(header.get("changedFields") or [], raw),
                           commit_timestamp=int(header.get("commitTimestamp") or 0),
                           change_origin=header.get("changeOrigin") or "", payload=payload)

    def subscribe(self, topic: str, *, replay_id: bytes | None, batch: int = MAX_REQUESTED
                  ) -> Iterator[tuple[list[ChangeEvent], bytes]]:
        """Stream (events, latest replay id) from after `replay_id` (None: the latest), `batch` at a time.

        Flow control: the stream first asks for `batch` events, and for as many more as it received each time the
        caller comes back for the next answer (so an event is asked for only once the previous ones were handled).
        """
        # https://developer.salesforce.com/docs/platform/pub-sub-api/references/methods/subscribe-rpc.html
        batch = max(1, min(batch, MAX_REQUESTED))
        requests: queue.Queue = queue.Queue()
        first = pb.FetchRequest(topic_name=topic, num_requested=batch,
                                replay_preset=pb.CUSTOM if replay_id else pb.LATEST, replay_id=replay_id or b"")
        requests.put(first)
        call = self.stub.Subscribe(iter(requests.get, None), metadata=self.metadata())
        try:
            for answer in call:
                events = [self.decode(e) for e in answer.events]
                yield events, answer.latest_replay_id
                if events:
                    requests.put(pb.FetchRequest(topic_name=topic, num_requested=len(events)))
        except grpc.RpcError as exc:
            raise self._error(exc, topic) from None
        finally:
            requests.put(None)
            call.cancel()

    def _unary(self, method, request):
        try:
            return method(request, metadata=self.metadata(), timeout=self.timeout)
        except grpc.RpcError as exc:
            raise self._error(exc, getattr(request, "topic_name", "")) from None

    def _error(self, exc: grpc.RpcError, topic: str) -> HostError:
        """A gRPC status as the connectors' error classes."""
        # https://developer.salesforce.com/docs/platform/pub-sub-api/guide/handling-errors.html
        code, details = exc.code(), exc.details() or ""
        kwargs = dict(host=self.host, code=code.name)
        if code == grpc.StatusCode.UNAUTHENTICATED:
            return PubSubAuthError(details or "access token refused", **kwargs)
        if code == grpc.StatusCode.INVALID_ARGUMENT and "replay" in details.lower():
            return ReplayInvalid(details, **kwargs)
        if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):
            return HostNotFound(f"{topic}: {details}", **kwargs)
        return HostUnavailable(f"{code.name} on {topic or 'Pub/Sub API'}: {details}", **kwargs)
