"""The admin pages: set up a tenant from inside the host's iframe (or standalone, behind a login)."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

from webhooks.admin import views_main, views_playbook, views_mapping, views_planning, views_preview  # noqa: E402,F401  (routes)
from webhooks.admin import views_bench, views_timeline  # noqa: E402,F401  (routes, issue #16)
from webhooks.admin import views_replan  # noqa: E402,F401  (issue #17: playbook changes applied, progress)
from webhooks.admin import views_forecast  # noqa: E402,F401  (issue #29: the bench forecast)
from webhooks.admin import views_setup  # noqa: E402,F401  (issue #27: the set-up flow)
