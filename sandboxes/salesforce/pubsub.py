"""The sandbox org's Pub/Sub API (gRPC on loopback): change events of missions, GetTopic, GetSchema, faults.

A mission created, changed or deleted through the control API becomes one change event on its object's channel
(`/data/Mission__ChangeEvent`, `/data/pse__Assignment__ChangeEvent`) when the object is in `cdc_objects` (selected
for Change Data Capture in Setup). Payloads are Avro as Salesforce sends them through Pub/Sub: every field of the
record, unchanged ones null, and the header's `changedFields` as a bitmap over the schema's fields.
Faults (`POST /_control/pubsub/faults`): `drop` (streams close with UNAVAILABLE after `after` more events),
`invalid-replay` (the next resume from a replay id is refused with INVALID_ARGUMENT), `auth-expired` (every access
token expires; open streams close with UNAUTHENTICATED).
"""
from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import threading
import time
import uuid
from concurrent import futures

import fastavro
import grpc

from connectors.salesforce.pubsub import pubsub_pb2 as pb
from connectors.salesforce.pubsub import pubsub_pb2_grpc as pb_grpc

from .schema import objects
from .state import INTEGRATION_USER, ORG_ID, SandboxState

HEADER = {"type": "record", "name": "ChangeEventHeader", "fields": [
    {"name": "entityName", "type": "string"}, {"name": "recordIds", "type": {"type": "array", "items": "string"}},
    {"name": "changeType", "type": "string"}, {"name": "changeOrigin", "type": "string"},
    {"name": "transactionKey", "type": "string"}, {"name": "sequenceNumber", "type": "int"},
    {"name": "commitTimestamp", "type": "long"}, {"name": "commitNumber", "type": "long"},
    {"name": "commitUser", "type": "string"},
    {"name": "nulledFields", "type": {"type": "array", "items": "string"}},
    {"name": "diffFields", "type": {"type": "array", "items": "string"}},
    {"name": "changedFields", "type": {"type": "array", "items": "string"}}]}
KINDS = {"created": "CREATE", "updated": "UPDATE", "deleted": "DELETE"}
SKIPPED = ("Id", "IsDeleted")  # the record id travels in the header's recordIds


def topic_of(sobject: str) -> str:
    return f"/data/{sobject[:-3]}__ChangeEvent" if sobject.endswith("__c") else f"/data/{sobject}ChangeEvent"


class ChangeLog:
    """The org's change events (replay ids never reused, even across resets), faults and waiting streams."""

    def __init__(self, state: SandboxState):
        self.state = state
        self.cond = threading.Condition()
        self.serial = itertools.count(int(time.time() * 1000) % 10**11 * 10)
        self.events: list[dict] = []
        self.floor = next(self.serial)  # a replay id below this was never served by this log (expired, reset)
        self.faults: list[dict] = []
        self.schemas: dict[str, tuple[str, dict, object]] = {}  # schema id → (object, schema, parsed)

    def reset(self) -> None:
        with self.cond:
            self.events.clear()
            self.faults.clear()
            self.floor = next(self.serial)
            self.cond.notify_all()

    # --- schemas ----------------------------------------------------------------------------
    def schema_of(self, sobject: str) -> tuple[str, dict, object]:
        """(schema id, Avro schema, parsed) of an object's change events: the header, then every field."""
        names = [n for n in objects(self.state.config)[sobject] if n not in SKIPPED]
        schema = {"type": "record", "name": topic_of(sobject).rsplit("/", 1)[1], "namespace": "com.sforce.eventbus",
                  "fields": [{"name": "ChangeEventHeader", "type": HEADER},
                             *({"name": n, "type": ["null", "string"], "default": None} for n in names)]}
        text = json.dumps(schema, sort_keys=True)
        schema_id = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()[:16]).decode().rstrip("=")
        if schema_id not in self.schemas:
            self.schemas[schema_id] = (sobject, schema, fastavro.parse_schema(json.loads(text)))
        return schema_id, schema, self.schemas[schema_id][2]

    # --- events -----------------------------------------------------------------------------
    def record(self, sobject: str, rec: dict, kind: str, changed: list[str]) -> dict | None:
        """One change event for a mission change, when the object is selected for CDC; the event."""
        if sobject not in self.state.config.cdc_objects:
            return None
        schema_id, schema, parsed = self.schema_of(sobject)
        names = [f["name"] for f in schema["fields"]]
        change_type = KINDS[kind]
        shown = set(names[1:]) if change_type == "CREATE" else set(changed) | {"LastModifiedDate"}
        bits = sum(1 << i for i, n in enumerate(names) if n in shown and change_type != "DELETE")
        body = {n: (None if rec.get(n) is None or n not in shown else str(rec[n])) for n in names[1:]}
        with self.cond:
            replay = next(self.serial)
            header = {"entityName": sobject, "recordIds": [rec["Id"]], "changeType": change_type,
                      "changeOrigin": "com/salesforce/api/rest/67.0", "transactionKey": str(uuid.uuid4()),
                      "sequenceNumber": 1, "commitTimestamp": int(time.time() * 1000), "commitNumber": replay,
                      "commitUser": INTEGRATION_USER, "nulledFields": [], "diffFields": [],
                      "changedFields": [f"0x{bits:X}"] if bits else []}
            out = io.BytesIO()
            fastavro.schemaless_writer(out, parsed, {"ChangeEventHeader": header, **body})
            event = {"replay": replay, "topic": topic_of(sobject), "schema_id": schema_id, "payload": out.getvalue(),
                     "header": header}
            self.events.append(event)
            self.cond.notify_all()
            return event

    def latest(self) -> int:
        with self.cond:
            return self.events[-1]["replay"] if self.events else self.floor

    def take_fault(self, kind: str) -> dict | None:
        with self.cond:
            for fault in self.faults:
                if fault["kind"] == kind:
                    self.faults.remove(fault)
                    return fault
        return None


def replay_bytes(replay: int) -> bytes:
    return replay.to_bytes(8, "big")


class Servicer(pb_grpc.PubSubServicer):
    """Subscribe, GetTopic and GetSchema as Salesforce answers them (codes and messages [I])."""

    def __init__(self, state: SandboxState, log: ChangeLog):
        self.state, self.log = state, log

    def _auth(self, context) -> None:
        meta = dict(context.invocation_metadata())
        token = meta.get("accesstoken", "")
        with self.state.lock:
            info = self.state.access_tokens.get(token)
            live = info is not None and not info["revoked"] and info["expires_at"] > time.time()
        if not live or meta.get("tenantid", "")[:15] != ORG_ID[:15] or not meta.get("instanceurl"):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "Authentication failed: the session is invalid or expired "
                                                           "(accesstoken, instanceurl, tenantid)")
        return token

    def _topic(self, topic: str, context) -> str:
        for sobject in objects(self.state.config):
            if topic_of(sobject) == topic and sobject in self.state.config.cdc_objects:
                return sobject
        context.abort(grpc.StatusCode.NOT_FOUND, f"The topic {topic} doesn't exist or isn't selected for Change Data "
                                                 "Capture in this org")

    def GetTopic(self, request, context):
        self._auth(context)
        sobject = self._topic(request.topic_name, context)
        return pb.TopicInfo(topic_name=request.topic_name, tenant_guid=ORG_ID, can_publish=False, can_subscribe=True,
                            schema_id=self.log.schema_of(sobject)[0], rpc_id=str(uuid.uuid4()))

    def GetSchema(self, request, context):
        self._auth(context)
        found = self.log.schemas.get(request.schema_id)
        if found is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Unknown schema id {request.schema_id}")
        return pb.SchemaInfo(schema_json=json.dumps(found[1]), schema_id=request.schema_id, rpc_id=str(uuid.uuid4()))

    def Subscribe(self, request_iterator, context):
        token = self._auth(context)
        first = next(request_iterator)
        self._topic(first.topic_name, context)
        position = self._start(first, context)
        credit = [max(0, first.num_requested)]
        threading.Thread(target=self._more, args=(request_iterator, credit), daemon=True).start()
        # at once, an empty answer naming where the subscription starts [I: Salesforce sends its first keepalive
        # within 270 s]: a subscriber that starts from the latest event knows its position before anything happens
        yield pb.FetchResponse(latest_replay_id=replay_bytes(position), rpc_id=str(uuid.uuid4()),
                               pending_num_requested=credit[0])
        while context.is_active():
            self._check_live(token, context)
            with self.log.cond:
                ready = [e for e in self.log.events if e["replay"] > position and e["topic"] == first.topic_name]
                if not ready or credit[0] <= 0:
                    self.log.cond.wait(self.state.config.pubsub_keepalive_seconds)
                    ready = [e for e in self.log.events if e["replay"] > position and e["topic"] == first.topic_name]
                sent = ready[:credit[0]]
                credit[0] -= len(sent)
                drop = self._drop_after(len(sent))
                if drop is not None:
                    sent = sent[:drop]
                if sent:
                    position = sent[-1]["replay"]
                elif not ready:  # nothing waits for this stream: its position is the org's newest event
                    position = max(position, self.log.events[-1]["replay"] if self.log.events else position)
            yield pb.FetchResponse(events=[pb.ConsumerEvent(event=pb.ProducerEvent(
                id=str(e["replay"]), schema_id=e["schema_id"], payload=e["payload"]), replay_id=replay_bytes(e["replay"]))
                for e in sent], latest_replay_id=replay_bytes(position),
                rpc_id=str(uuid.uuid4()), pending_num_requested=credit[0])
            if drop is not None:
                context.abort(grpc.StatusCode.UNAVAILABLE, "The stream was closed by the server; subscribe again")

    def _start(self, first, context) -> int:
        if first.replay_preset == pb.EARLIEST:
            return self.log.floor
        if first.replay_preset != pb.CUSTOM:
            return self.log.latest()
        replay = int.from_bytes(first.replay_id, "big") if first.replay_id else -1
        if self.log.take_fault("invalid-replay") or not self.log.floor <= replay <= self.log.latest():
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"The Replay ID validation failed. Replay ID: {first.replay_id.hex()} (invalid or older "
                          "than the retention window)")
        return replay

    def _more(self, request_iterator, credit: list[int]) -> None:
        """Each later FetchRequest adds to what the stream may send (flow control)."""
        try:
            for more in request_iterator:
                with self.log.cond:
                    credit[0] += max(0, more.num_requested)
                    self.log.cond.notify_all()
        except Exception:  # noqa: BLE001 - the client went away
            return

    def _drop_after(self, ready: int) -> int | None:
        """With a `drop` fault queued: how many of the ready events go out before the stream closes."""
        for fault in self.log.faults:
            if fault["kind"] == "drop":
                if fault["after"] <= ready:
                    self.log.faults.remove(fault)
                    return fault["after"]
                fault["after"] -= ready
        return None

    def _check_live(self, token: str, context) -> None:
        with self.state.lock:
            info = self.state.access_tokens.get(token)
            live = info is not None and not info["revoked"] and info["expires_at"] > time.time()
        if not live:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "The session expired; refresh the access token")


def changelog(state: SandboxState) -> ChangeLog:
    """The state's change log (made on first use)."""
    with state.lock:
        if not hasattr(state, "changelog"):
            state.changelog = ChangeLog(state)
        return state.changelog


def serve(state: SandboxState, port: int = 0) -> tuple[grpc.Server, int]:
    """Start the Pub/Sub API on 127.0.0.1 (port 0: any free one); (server, port). Stop it with `server.stop(0)`."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    pb_grpc.add_PubSubServicer_to_server(Servicer(state, changelog(state)), server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, bound
