"""Read the scanners' reports in a scan's folder; print every finding and exit 1 if any.

Usage: python security/findings.py FOLDER   (the folder security/scan.sh fills)
"""

import json
import re
import sys
from pathlib import Path

# What the scan accepts, and why: the scan serves the portal over plain http on 127.0.0.1 with
# development settings, where cookies cannot be Secure (portal/config.py: production cookies
# are Secure, with __Host- names). wapiti itself skips HSTS over plain http. Each entry is
# (wapiti category, a regular expression of the finding's info, the reason).
ACCEPTED = [
    ("Secure Flag cookie", r".*", "plain http in development: production cookies are Secure"),
]


def wapiti_findings(report: Path) -> list[str]:
    """Vulnerabilities and anomalies of wapiti's JSON report, less the accepted ones."""
    data = json.loads(report.read_text())
    found = []
    for section in ("vulnerabilities", "anomalies"):
        for category, entries in (data.get(section) or {}).items():
            for entry in entries:
                info = entry.get("info", "")
                if any(
                    category == name and re.search(pattern, info) for name, pattern, _ in ACCEPTED
                ):
                    continue
                where = " ".join(str(entry.get(k) or "") for k in ("method", "path", "parameter"))
                found.append(f"wapiti {section}: {category}: {where} - {info}")
    return found


def sqlmap_findings(folder: Path) -> list[str]:
    """Injection points sqlmap found (its per-target `log` files hold them)."""
    found = []
    for log in sorted(folder.glob("*.log")):
        if log.name.startswith("sqlmap") and "identified the following injection point" in (
            log.read_text(errors="replace")
        ):
            found.append(f"sqlmap: injection point reported in {log.name}")
    for target_log in sorted((folder / "sqlmap").glob("*/log")):
        if target_log.read_text(errors="replace").strip():
            found.append(f"sqlmap: {target_log.parent.name}: {target_log.read_text().strip()}")
    return found


# One line of the development server's access log (4xx and 5xx lines come in colour).
ACCESS_LINE = re.compile(r'"(?:\x1b\[[\d;]*m)*([A-Z]+) (\S+) HTTP/[\d.]+(?:\x1b\[0m)?" (\d{3})')


def server_errors(portal_log: Path) -> list[str]:
    """Answers of 500 and above in the portal's own log, whoever caused them."""
    text = portal_log.read_text(errors="replace")
    errors = [f"portal: {m[2]} {m[0]} {m[1]}" for m in ACCESS_LINE.findall(text) if m[2] >= "500"]
    if "Traceback (most recent call last)" in text and not errors:
        errors.append("portal: a traceback in the log")
    return errors


def main(folder: Path) -> int:
    findings = [
        *wapiti_findings(folder / "wapiti.json"),
        *sqlmap_findings(folder),
        *server_errors(folder / "portal.log"),
    ]
    log = (folder / "portal.log").read_text(errors="replace")
    print(f"{len(ACCESS_LINE.findall(log))} requests served to the scanners")
    for name, _, why in ACCEPTED:
        print(f"accepted: {name} ({why})")
    for finding in findings:
        print(finding)
    print(f"{len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
