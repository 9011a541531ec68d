#!/usr/bin/env bash
# wapiti and sqlmap against a running portal with a signed-in session; fails on any finding.
#
# Starts the portal (development settings, demo data, a throwaway SQLite database) on a free
# port, signs in as the demo parent and as the operator through the real forms (the one-time
# code is read from the portal's log, where development mail goes), then:
#   - wapiti crawls and attacks everything the parent reaches; any vulnerability or anomaly
#     (a 500, a timeout) in its JSON report is a finding;
#   - sqlmap tests every form and query parameter it finds as the parent, and the operators'
#     user search (the one hand-written full-text SQL) as the operator; any injection point
#     is a finding.
# The scanners live in their own venv (security/.venv), never in the project's.
# Usage: bash security/scan.sh   (SCAN_KEEP=1 keeps the reports and logs; SCAN_MODULE_SECONDS
# bounds each wapiti module, 600 by default; see README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=security/.venv
if [ ! -x "$venv/bin/wapiti" ] || [ ! -x "$venv/bin/sqlmap" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q wapiti3 sqlmap
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export PORTAL_ENV=development FLASK_APP=portal MAIL_BACKEND=log
export DATABASE_URL="sqlite:///$work/scan.db"
portal=""
cleanup() {
  if [ -n "$portal" ]; then kill "$portal" 2>/dev/null || true; fi
  if [ "${SCAN_KEEP:-0}" = 1 ]; then echo "reports and logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

.venv/bin/flask db upgrade >"$work/setup.log" 2>&1
.venv/bin/flask demo-data >>"$work/setup.log" 2>&1
.venv/bin/flask run --port "$port" --no-reload >"$work/portal.log" 2>&1 &
portal=$!
for _ in $(seq 50); do
  curl -fs -o /dev/null "$base/" && break
  sleep 0.2
done

# sign_in EMAIL JAR: the real sign-in form, then the one-time code the log shows.
sign_in() {
  local email=$1 jar=$2 token code
  token=$(curl -fs -c "$jar" -b "$jar" "$base/auth/login" |
    sed -n 's/.*name="csrf_token" type="hidden" value="\([^"]*\)".*/\1/p' | head -n1)
  curl -fs -o /dev/null -c "$jar" -b "$jar" "$base/auth/login" \
    --data-urlencode "csrf_token=$token" --data-urlencode "email=$email" \
    --data-urlencode "password=okul-demo-2026"
  for _ in $(seq 50); do
    code=$(grep -A20 "mail to $email" "$work/portal.log" | grep -oE '\b[0-9]{6}\b' | tail -n1 || true)
    [ -n "$code" ] && break
    sleep 0.2
  done
  curl -fs -o /dev/null -c "$jar" -b "$jar" "$base/auth/one-time-code" \
    --data-urlencode "csrf_token=$token" --data-urlencode "code=$code"
  # Signed in when the security page answers 200 rather than a redirect to the login page.
  [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" "$base/auth/security")" = 200 ] || {
    echo "could not sign in as $email" >&2
    exit 2
  }
}

# cookies JAR: the jar's cookies as one Cookie header value (for sqlmap).
cookies() {
  awk -F'\t' 'NF >= 7 && $1 !~ /^# / { printf "%s%s=%s", sep, $6, $7; sep = "; " }' "$1"
}

# wapiti_cookies JAR: the same cookies as wapiti's JSON cookie file. Its -C header is dropped
# by its HTTP client, and --drop-set-cookie drops these too, so the file it is.
wapiti_cookies() {
  python3 - "$1" <<'PY'
import json, sys
cookies = {}
for line in open(sys.argv[1]):
    fields = line.rstrip("\n").split("\t")
    if len(fields) >= 7 and not line.startswith("# "):
        cookies[fields[5]] = {"value": fields[6], "expires": None, "secure": False,
                              "port": None, "version": 0}
print(json.dumps({"127.0.0.1": {"/": cookies}}))
PY
}

sign_in elif.sahin@example.com "$work/parent.jar"
sign_in operator@okul-portal.example.com "$work/operator.jar"
parent=$(cookies "$work/parent.jar")
wapiti_cookies "$work/parent.jar" >"$work/parent.json"
operator=$(cookies "$work/operator.jar")

# What would end the scanners' own session, or sign them out, is left alone; every other
# form is fair game (the database is thrown away).
excluded=(/auth/logout /auth/sessions/* /auth/password /account/delete /account/email*)
exclude_args=()
for path in "${excluded[@]}"; do exclude_args+=(-x "$base$path"); done

echo "== wapiti ($base, signed in as the demo parent)"
"$venv/bin/wapiti" -u "$base/" -c "$work/parent.json" "${exclude_args[@]}" \
  --scope folder -m "common,csrf,crlf,redirect,permanentxss" \
  --store-session "$work/wapiti-session" --flush-session \
  --max-attack-time "${SCAN_MODULE_SECONDS:-600}" -f json -o "$work/wapiti.json" \
  >"$work/wapiti.log" 2>&1 || {
  tail -n 30 "$work/wapiti.log"
  exit 2
}

echo "== sqlmap (forms and parameters as the parent; the operators' user search)"
sqlmap_common=(--batch --level 1 --risk 1 --disable-coloring --skip-waf
  --output-dir "$work/sqlmap" --answers "follow=N")
# --smart (only what its heuristic finds promising) for the many forms; the full level-1 set
# for the user search, the one hand-written full-text SQL.
"$venv/bin/sqlmap" -u "$base/" --cookie "$parent" --crawl 3 --forms --csrf-token csrf_token --smart \
  --crawl-exclude '/auth/(logout|sessions|password)|/account/(delete|email)' "${sqlmap_common[@]}" \
  >"$work/sqlmap-parent.log" 2>&1 || true
"$venv/bin/sqlmap" -u "$base/operator/?q=Elif" -p q --cookie "$operator" \
  "${sqlmap_common[@]}" >"$work/sqlmap-operator.log" 2>&1 || true

# A scan that lost its session mostly saw the login page: that is a failed scan, not a pass.
for who in parent operator; do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$work/$who.jar" "$base/auth/security")" != 200 ]; then
    echo "the $who's session ended during the scan: its results cover little" >&2
    exit 2
  fi
done

# Findings: wapiti's vulnerabilities and anomalies, sqlmap's injection points, and any 500 in
# the portal's own log (one the scanners did not report).
security/.venv/bin/python security/findings.py "$work"
