#!/usr/bin/env bash
# Runs deploy/nginx/minyi.conf for real: nginx on loopback, with a throwaway self-signed
# certificate, in front of a `minyi serve` on a fresh SQLite database, and checks through it
# what a deployment depends on (health check, login with the Origin check and Secure cookies,
# a 5 MB roster upload, the HTTP→HTTPS redirect, no survey tokens in the access log).
#
#     deploy/nginx/test.sh [path/to/minyi]      # default $CARGO_TARGET_DIR (or target)/debug/minyi, built if missing
#
# nginx runs as the current user with every file in a temporary folder; nothing outside it
# is written. If nginx is missing it is installed with apt-get when run as root. Prints one
# PASS or FAIL line at the end and exits non-zero on failure.
set -euo pipefail
# A binary named on the command line is relative to where the script was started.
[[ $# -eq 0 ]] || minyi="$(realpath -- "$1")"
cd "$(dirname "$0")/../.."
started=$SECONDS

fail_setup() {
  echo "deploy/nginx/test.sh: FAIL: $*" >&2
  exit 1
}

# --- the binary -------------------------------------------------------------------------
minyi="${minyi:-${CARGO_TARGET_DIR:-target}/debug/minyi}"
if [[ ! -x "$minyi" ]]; then
  [[ $# -eq 0 ]] || fail_setup "$1 is not an executable"
  echo "building $minyi"
  cargo build --quiet --bin minyi
fi

# --- nginx and the other tools ------------------------------------------------------------
find_nginx() { command -v nginx || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; }; }
if ! nginx="$(find_nginx)"; then
  [[ "$(id -u)" -eq 0 ]] ||
    fail_setup "nginx is not installed; install it (Debian/Ubuntu: sudo apt-get install nginx) and run this again"
  echo "installing nginx"
  apt_log="$(mktemp)"
  # policy-rc.d in containers keeps the packaged service from starting; on a machine with
  # systemd the package starts its default site on port 80, which this test does not use.
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx; } >"$apt_log" 2>&1 ||
    { cat "$apt_log" >&2; rm -f "$apt_log"; fail_setup "apt-get install nginx failed"; }
  rm -f "$apt_log"
  nginx="$(find_nginx)" || fail_setup "nginx is still missing after apt-get install"
fi
for tool in curl openssl awk; do
  command -v "$tool" >/dev/null || fail_setup "$tool is needed"
done

# --- a temporary folder, removed with both servers on exit -------------------------------
tmp="$(mktemp -d)"
app_pid=""
nginx_pid=""
cleanup() {
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  [[ -n "$app_pid" ]] && kill "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show_logs() {
  echo "--- minyi log (last 20 lines)" >&2
  tail -n 20 "$tmp/minyi.out" "$tmp/minyi.err" >&2 2>/dev/null || true
  echo "--- nginx error log (last 20 lines)" >&2
  tail -n 20 "$tmp/error.log" >&2 2>/dev/null || true
}

# Sets the variable named $1 to a loopback port nothing listens on now and not taken by an
# earlier call (another program may still take it first; unlikely in the second this runs).
used_ports=" "
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if [[ "$used_ports" != *" $port "* ]] && ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      used_ports+="$port "
      printf -v "$1" '%s' "$port"
      return
    fi
  done
  fail_setup "found no free loopback port"
}
app_port="" https_port="" http_port=""
free_port app_port
free_port https_port
free_port http_port
base="https://127.0.0.1:$https_port"

# --- a certificate for 127.0.0.1, trusted by curl below with --cacert --------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >"$tmp/openssl.log" 2>&1 ||
  { cat "$tmp/openssl.log" >&2; fail_setup "openssl could not make a certificate"; }

# --- the app -----------------------------------------------------------------------------
NO_COLOR=1 "$minyi" serve --database-url "sqlite://$tmp/minyi.db" --bind "127.0.0.1:$app_port" \
  --base-url "$base" >"$tmp/minyi.out" 2>"$tmp/minyi.err" &
app_pid=$!
for _ in $(seq 1 100); do
  curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$app_port/healthz" 2>/dev/null && break
  kill -0 "$app_pid" 2>/dev/null || { show_logs; fail_setup "minyi serve exited"; }
  sleep 0.1
done
curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$app_port/healthz" ||
  { show_logs; fail_setup "minyi serve did not answer on 127.0.0.1:$app_port"; }
# The first start on an empty database prints the administrator's one-time password.
admin_password="$(sed -n "s/.*with one-time password \([^ ]*\) (must be changed.*/\1/p" "$tmp/minyi.out")"
[[ -n "$admin_password" ]] || { show_logs; fail_setup "minyi printed no one-time administrator password"; }

# --- the shipped config with only the machine-specific values replaced -------------------
conf="$(<deploy/nginx/minyi.conf)"
# Replace every occurrence of $1 with $2; the shipped file must hold it $3 times, so a change
# to the example that this test no longer covers fails here instead of going unnoticed.
substitute() {
  local found
  found="$(grep -cF -- "$1" <<<"$conf" || true)"
  [[ "$found" -eq "$3" ]] ||
    fail_setup "deploy/nginx/minyi.conf: expected '$1' on $3 lines, found $found; update this test"
  conf="${conf//"$1"/"$2"}"
}
substitute "listen 80;" "listen 127.0.0.1:$http_port;" 1
substitute "listen 443 ssl;" "listen 127.0.0.1:$https_port ssl;" 1
substitute "listen [::]:80;" "" 1
substitute "listen [::]:443 ssl;" "" 1
substitute "server 127.0.0.1:8080;" "server 127.0.0.1:$app_port;" 1
substitute "server_name minyi.example.org;" "server_name 127.0.0.1;" 2
substitute "/etc/letsencrypt/live/minyi.example.org/fullchain.pem" "$tmp/cert.pem" 1
substitute "/etc/letsencrypt/live/minyi.example.org/privkey.pem" "$tmp/key.pem" 1
substitute "/var/log/nginx/minyi.access.log" "$tmp/access.log" 2
substitute "/var/www/letsencrypt" "$tmp/acme" 2
printf '%s\n' "$conf" >"$tmp/minyi.conf"

# nginx's own settings, as /etc/nginx/nginx.conf would give them, inside the temporary folder.
# Run as root, the workers would switch to `nobody` and lose the folder: keep the user.
{
  [[ "$(id -u)" -eq 0 ]] && echo "user root;"
  cat <<EOF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log warn;
events { worker_connections 64; }
http {
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    include $tmp/minyi.conf;
}
EOF
} >"$tmp/nginx.conf"
nginx_args=(-p "$tmp" -e "$tmp/error.log" -c "$tmp/nginx.conf")
"$nginx" -t -q "${nginx_args[@]}" 2>"$tmp/nginx-t.log" ||
  { cat "$tmp/nginx-t.log" >&2; fail_setup "nginx rejects deploy/nginx/minyi.conf"; }
"$nginx" "${nginx_args[@]}" -g "daemon off;" &
nginx_pid=$!
for _ in $(seq 1 50); do
  curl -sS --max-time 2 --cacert "$tmp/cert.pem" -o /dev/null "$base/healthz" 2>/dev/null && break
  kill -0 "$nginx_pid" 2>/dev/null || { show_logs; fail_setup "nginx exited"; }
  sleep 0.1
done

# --- the checks --------------------------------------------------------------------------
failures=0
checks=0
ok() { checks=$((checks + 1)); echo "ok   $1"; }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $1" >&2; }
check() { # check DESCRIPTION COMMAND...: the command's success is the check's
  local what="$1"
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

# request URL [curl options…]: status code in $status, headers in $tmp/h, body in $tmp/b.
request() {
  local url="$1"
  shift
  status="$(curl -sS --max-time 60 --cacert "$tmp/cert.pem" -b "$tmp/jar" -c "$tmp/jar" \
    -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$@" "$url" 2>"$tmp/curl.err" || true)"
}
header() { grep -i "^$1:" "$tmp/h" | head -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ //'; }
has_header() { grep -qi "^$1:.*$2" "$tmp/h"; }
# cookie_has NAME ATTRIBUTE: the Set-Cookie of cookie NAME carries ATTRIBUTE (e.g. Secure).
cookie_has() { grep -i "^set-cookie: $1=" "$tmp/h" | grep -qi "; $2\b"; }
# The `_csrf` value of the form on the page just fetched.
form_token() { sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' "$tmp/b" | head -n 1; }
is() { [[ "$1" == "$2" ]] || { echo "     got '$1', expected '$2'" >&2; return 1; }; }

request "$base/healthz"
check "GET /healthz through nginx over HTTPS answers 200 ok" is "$status $(<"$tmp/b")" "200 ok"
check "HTTPS answers carry Strict-Transport-Security" has_header Strict-Transport-Security max-age=
one_hsts() { is "$(grep -ci '^strict-transport-security:' "$tmp/h")" 1; }
check "… once (nginx's, the app's hidden)" one_hsts
check "the app's Content-Security-Policy passes through" has_header Content-Security-Policy "default-src 'self'"
check "the app's own headers pass through (X-Frame-Options)" has_header X-Frame-Options DENY

request "$base/login"
login_token="$(form_token)"
check "the login page loads with a form token" is "$status $([[ -n "$login_token" ]] && echo token)" "200 token"
check "the login form's cookie is __Host- and Secure (the base URL is https)" cookie_has __Host-minyi_login_csrf Secure

request "$base/login" -H "Origin: https://evil.example" \
  --data-urlencode "_csrf=$login_token" --data-urlencode "username=admin" \
  --data-urlencode "password=$admin_password"
check "a login posted from another origin is refused (403)" is "$status" 403

request "$base/login" -H "Origin: $base" \
  --data-urlencode "_csrf=$login_token" --data-urlencode "username=admin" \
  --data-urlencode "password=$admin_password"
check "a login posted from the base URL succeeds (303 to /password)" is "$status $(header Location)" "303 /password"
session_cookie_is_private() {
  cookie_has __Host-minyi_session Secure && cookie_has __Host-minyi_session HttpOnly &&
    ! grep -i "^set-cookie: __Host-minyi_session=" "$tmp/h" | grep -qi "max-age\|expires"
}
check "the session cookie is __Host-, Secure, HttpOnly and ends with the browser" session_cookie_is_private

request "$base/password"
new_password="Deploy-test-$(openssl rand -hex 12)"
request "$base/password" -H "Origin: $base" --data-urlencode "_csrf=$(form_token)" \
  --data-urlencode "current=$admin_password" --data-urlencode "new=$new_password" \
  --data-urlencode "repeat=$new_password"
check "the one-time password is changed through the proxy" is "$status $(header Location)" "303 /?m=password"

# A village and a campaign to upload a roster to (through the pages, as a person would).
request "$base/admin/villages"
request "$base/admin/villages" -H "Origin: $base" --data-urlencode "_csrf=$(form_token)" \
  --data-urlencode "code=T001" --data-urlencode "name=测试村"
village_status="$status $(header Location)"
request "$base/admin"
request "$base/admin/campaigns" -H "Origin: $base" --data-urlencode "_csrf=$(form_token)" \
  --data-urlencode "name=部署测试" --data-urlencode "town=测试镇" --data-urlencode "year=2026"
campaign="$(header Location | sed -n 's|^/admin/campaigns/\([0-9]*\)$|\1|p')"
check "a village and a campaign are created through the pages" is "$village_status $status $([[ -n "$campaign" ]] && echo id)" "303 /admin/villages?m=village 303 id"

# A roster of just over 5 MB: phones, names and a long column the app drops (as ID-card
# numbers and addresses are dropped), so the file is large with few rows to check.
rows=36000
awk -v rows="$rows" 'BEGIN {
  filler = sprintf("%130s", ""); gsub(/ /, "x", filler)
  print "姓名,联系电话,备注"
  for (i = 0; i < rows; i++) printf "居民%d,138%08d,%s\n", i, i, filler
}' >"$tmp/roster.csv"
roster_bytes="$(wc -c <"$tmp/roster.csv")"
request "$base/api/login" -H "Content-Type: application/json" \
  --data "{\"username\":\"admin\",\"password\":\"$new_password\"}"
api_token="$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$tmp/b")"
request "$base/api/campaigns/$campaign/villages/T001/roster?file_name=roster.csv" -X PUT \
  -H "Authorization: Bearer $api_token" -H "Content-Type: text/csv" --data-binary "@$tmp/roster.csv"
accepted="$(sed -n 's/.*"accepted":\([0-9]*\).*/\1/p' "$tmp/b")"
check "a $((roster_bytes / 1024)) KiB roster passes nginx and is imported whole ($rows rows)" \
  is "$status $((roster_bytes > 5 * 1024 * 1024)) $accepted" "200 1 $rows"

status="$(curl -sS --max-time 10 -D "$tmp/h" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/login?next=/admin" 2>"$tmp/curl.err" || true)"
check "plain HTTP redirects to the same path over HTTPS" is "$status $(header Location)" "301 https://127.0.0.1/login?next=/admin"

request "$base/s/NotARealTokenButLongEnough"
log_hides_token() { grep -qF ' /s/{token} ' "$tmp/access.log" && ! grep -q NotARealToken "$tmp/access.log"; }
check "the access log shows /s/{token}, never the token" log_hides_token

elapsed=$((SECONDS - started))
if [[ "$failures" -eq 0 ]]; then
  echo "deploy/nginx/test.sh: PASS ($checks checks through nginx $("$nginx" -v 2>&1 | sed 's|.*/||'), ${elapsed}s)"
else
  show_logs
  echo "deploy/nginx/test.sh: FAIL ($failures of $checks checks failed, ${elapsed}s)" >&2
  exit 1
fi
