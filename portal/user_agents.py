"""A browser's user-agent string as a person reads it: `Chrome · Linux`.

Shown wherever a page lists where something came from: the security page's sessions and the
activity log (the `short_user_agent` template filter, portal.i18n).
"""

import re

_BROWSERS = (  # order matters: Edge and Opera also say Chrome, Chrome also says Safari
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def short_user_agent(user_agent: str | None, limit: int = 40) -> str:
    """`Firefox · Windows` for a browser we recognise, else the start of the string."""
    if not user_agent:
        return ""
    browser = next((name for token, name in _BROWSERS if token in user_agent), None)
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    if browser or system:
        return " · ".join(part for part in (browser, system) if part)
    text = re.sub(r"\s+", " ", user_agent).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
