"""Push-notification tokens of the signed-in user's devices (a JSON endpoint for the app)."""

from flask import Blueprint

bp = Blueprint("devices", __name__, url_prefix="/api/push-tokens")

from portal.devices import views  # noqa: E402,F401
