"""gunicorn settings for the web process (webhooks answer in milliseconds; no host call happens here)."""
import os

from config.infra.logs import gunicorn_logconfig
from config.infra.urls import exit_unless_operator_settings_pass
from config.infra.web_bind import checked_bind, default_bind

exit_unless_operator_settings_pass()  # INTERMISSION_PUBLIC_BASE_URL, INTERMISSION_BOOND_BASE_URL (config/infra/urls.py)

# loopback unless told otherwise; a public address only behind a buffering proxy (config/infra/web_bind.py)
bind = checked_bind(os.environ.get("INTERMISSION_BIND") or default_bind(os.environ.get("PORT")))
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("INTERMISSION_WEB_THREADS", "4"))
timeout = 30  # the longest a request may take
graceful_timeout = 30  # on SIGTERM, requests in flight get that long (less than compose's and the pod's grace)
keepalive = 5
limit_request_line = 4094
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeat files off a read-only root
control_socket_disable = True  # no gunicornc socket under $HOME: read-only root, several servers per machine
# The app writes one JSON line per request (method, route template, status, duration, request id): the URL
# path is never logged, it carries the tenant's webhook secret. gunicorn's own access log is therefore muted
# in `logconfig_dict`; should it be turned back on, this format still leaves the path out.
accesslog = None
access_log_format = '%(h)s "%(m)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'  # no path: it carries the secret
errorlog = "-"
loglevel = os.environ.get("INTERMISSION_LOG_LEVEL", "INFO").lower()
logconfig_dict = gunicorn_logconfig(os.environ.get("INTERMISSION_LOG_LEVEL", "INFO").upper(),
                                    os.environ.get("INTERMISSION_LOG_FORMAT", "json"))


def on_starting(server):
    """A new web server is not draining, whatever an earlier run of this container left (`intermission drain`)."""
    from handlers.ops.health import clear_drain_marker

    clear_drain_marker()


def post_worker_init(worker):
    """The app is loaded: the collector's full passes skip what start-up made (config/infra/heap.py)."""
    from config.infra.heap import freeze_startup

    freeze_startup()
