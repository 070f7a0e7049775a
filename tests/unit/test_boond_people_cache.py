"""Boond people records read to complete thin deliveries are shared by a tenant's jobs for a few minutes."""
from connectors.errors import HostNotFound
from handlers.hosts.boond.read import RecordCache, forget


class CountingClient:
    """Answers GET /projects/{id} and counts the reads; project 404 is refused."""

    def __init__(self):
        self.reads = 0

    def project(self, project_id: str) -> dict:
        self.reads += 1
        if project_id == "404":
            raise HostNotFound("gone")
        return {"data": {"id": project_id, "type": "project", "attributes": {"reference": f"P{self.reads}"}}}


def test_two_jobs_of_a_tenant_read_a_project_once(redis_conn):
    client = CountingClient()
    first = RecordCache(client, redis_conn, "t1").get("project", "45")
    second = RecordCache(client, redis_conn, "t1").get("project", "45")
    assert client.reads == 1 and first == second
    assert 0 < redis_conn.ttl("im:t:t1:boond:rec:project:45") <= 300


def test_another_tenant_reads_its_own(redis_conn):
    client = CountingClient()
    RecordCache(client, redis_conn, "t1").get("project", "45")
    RecordCache(client, redis_conn, "t2").get("project", "45")
    assert client.reads == 2


def test_a_webhook_about_the_record_drops_the_copy(redis_conn):
    client = CountingClient()
    RecordCache(client, redis_conn, "t1").get("project", "45")
    forget(redis_conn, "t1", "project", record_id="45")
    fresh = RecordCache(client, redis_conn, "t1").get("project", "45")
    assert client.reads == 2 and fresh["data"]["attributes"]["reference"] == "P2"


def test_a_refused_record_is_remembered_for_the_job_only(redis_conn):
    client = CountingClient()
    cache = RecordCache(client, redis_conn, "t1")
    assert cache.get("project", "404") is None and cache.get("project", "404") is None
    assert cache.refused == ["project 404"] and client.reads == 1
    RecordCache(client, redis_conn, "t1").get("project", "404")
    assert client.reads == 2
