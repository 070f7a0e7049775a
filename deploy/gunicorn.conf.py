"""gunicorn settings for the web process (webhooks answer in milliseconds; no host call happens here)."""
import os

bind = os.environ.get("INTERMISSION_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("INTERMISSION_WEB_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
limit_request_line = 4094
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s" %(s)s %(B)s %(M)sms'  # no path: it carries the tenant's secret
