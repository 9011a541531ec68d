"""The house rules of docs/architecture.md, read off the source so that they stay true.

Only views/ and the web-layer modules touch the request; only access/permissions.py names a
staff role; only portal/clock.py reads the clock; only the CSRF macro writes the token field.
"""

import ast
import re
from pathlib import Path

import pytest

from portal.access.permissions import Role

ROOT = Path(__file__).resolve().parent.parent
PORTAL = ROOT / "portal"
TEMPLATES = ROOT / "templates"

# Modules that are the web layer by nature: the factory, the route guard, the htmx helper,
# the locale selector, the request's origin and the security headers.
WEB_LAYER = {
    PORTAL / "__init__.py",
    PORTAL / "access" / "__init__.py",
    PORTAL / "csrf.py",
    PORTAL / "htmx.py",
    PORTAL / "i18n.py",
    PORTAL / "origin.py",
}
REQUEST_NAMES = {"request", "session", "current_user", "g"}


def _modules() -> list[Path]:
    return sorted(path for path in PORTAL.rglob("*.py") if "translations" not in path.parts)


def _is_view(path: Path) -> bool:
    return "views" in path.relative_to(PORTAL).parts


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_only_views_and_the_web_layer_import_the_request():
    offenders = []
    for path in _modules():
        if _is_view(path) or path in WEB_LAYER:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module in ("flask", "flask_login"):
                touched = {alias.name for alias in node.names} & REQUEST_NAMES
                if touched:
                    offenders.append(f"{_name(path)}:{node.lineno} imports {sorted(touched)}")

    assert offenders == []


def test_no_role_code_outside_the_permission_table():
    codes = {str(role) for role in Role}
    offenders = []
    for path in _modules():
        if path == PORTAL / "access" / "permissions.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and node.value in codes:
                offenders.append(f"{_name(path)}:{node.lineno} {node.value!r}")
    quoted_code = re.compile(r"""["'](%s)["']""" % "|".join(codes))  # noqa: UP031
    for path in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if quoted_code.search(line):
                offenders.append(f"{_name(path)}:{number}")

    assert offenders == []


@pytest.mark.parametrize("call", ["now", "utcnow", "today"])
def test_only_the_clock_module_reads_the_clock(call):
    offenders = []
    for path in _modules():
        if path == PORTAL / "clock.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == call
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("datetime", "date")
            ):
                offenders.append(f"{_name(path)}:{node.lineno}")

    assert offenders == []


def test_every_template_writes_the_csrf_field_through_the_macro():
    hand_written = [
        _name(path)
        for path in sorted(TEMPLATES.rglob("*.html"))
        if path.name != "_macros.html" and re.search(r'name="csrf_token"', path.read_text())
    ]

    assert hand_written == []
