#!/bin/sh
# chat-webhook.sh: post what baton did to a chat channel's incoming webhook (Slack,
# Mattermost, Rocket.Chat, Google Chat take {"text": ...}; Discord takes {"content": ...}:
# --field content). Fits every hook: afterWriterChange, onFence, onFailoverSkipped, and
# beforePromote (as a notice only: it exits non-zero when the post fails, which would VETO the
# promotion, so as a beforePromote hook wrap it in something that always exits 0).
#
# What it does: builds one line from the BATON_* variables, e.g.
#   baton [orders] writer moved a1 (10.0.0.1:3306) -> b1 (10.0.0.2:3306), epoch 7,
#   writer-dead-quorum: a1 down for 3 probes; possibly lost GTIDs: 1-11-40-42
# JSON-escapes it (quotes, backslashes, newlines, control characters), and POSTs
# {"<field>": "<line>"} with curl: --max-time (default 5 s; give the hook a longer timeoutMs),
# --fail (an HTTP error is a non-zero exit), http and https only.
#
# Usage (argv in baton's YAML; none of these is a secret):
#   chat-webhook.sh --url-file /etc/baton/chat-webhook.url [--field text] [--max-time 5]
#
# Reads: BATON_HOOK, BATON_CLUSTER, BATON_EPOCH, BATON_REASON, BATON_MESSAGE,
#   BATON_OLD_WRITER[_HOST|_PORT], BATON_NEW_WRITER[_HOST|_PORT], BATON_NODE[_HOST|_PORT],
#   BATON_LOST_GTIDS (each only when set).
# Secrets: the webhook URL carries its token, so it lives in --url-file (first line, mode 0600)
#   and reaches curl on its standard input (`--config -`), never in argv or the environment;
#   URLs in curl's error messages are cut after the host before they reach stderr.
# Needs: curl.
#
# Tested: test/unit/hooks/hook-runner.test.ts runs it through baton's hook runner against a
# local Node HTTP server: the POST arrives on the URL's path, as application/json, and its JSON
# parses back to the expected line, quotes, backslashes and a newline in BATON_MESSAGE
# included; an HTTP 500 makes it exit non-zero with the token kept out of stderr. `sh -n` there.
set -eu

me=chat-webhook
die() { echo "$me: $*" >&2; exit 2; }
need() { [ $# -ge 2 ] || die "$1 needs a value"; }

url_file='' field=text max_time=5
while [ $# -gt 0 ]; do
  case "$1" in
    --url-file) need "$@"; url_file=$2; shift 2 ;;
    --field) need "$@"; field=$2; shift 2 ;;
    --max-time) need "$@"; max_time=$2; shift 2 ;;
    *) die "unknown argument: $1" ;;
  esac
done

[ -n "$url_file" ] || die "--url-file is required"
[ -r "$url_file" ] || die "--url-file: cannot read $url_file"
case "$field" in '' | *[!A-Za-z0-9_]*) die "--field: not a plain JSON key: $field" ;; esac
case "$max_time" in '' | *[!0-9]*) die "--max-time: not a number of seconds: $max_time" ;; esac
url=$(sed -n -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/./{p;q;}' "$url_file")
case "$url" in
  http://* | https://*) ;;
  *) die "$url_file does not start with an http:// or https:// URL" ;;
esac
case "$url" in *[\"\\[:space:]]*) die "$url_file: the URL holds a quote, a backslash or a space" ;; esac

# A JSON string's contents: control characters dropped (tab and CR become spaces), backslash
# and double quote escaped, newlines as \n.
json_string() {
  printf '%s' "$1" | tr -d '\000-\010\013\014\016-\037' | tr '\t\r' '  ' |
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' |
    awk 'NR > 1 { printf "%s", "\\n" } { printf "%s", $0 }'
}
# "name (host:port)" of a node given by the prefix of its variables.
node() {
  eval "n=\${$1-} h=\${$1_HOST-} p=\${$1_PORT-}"
  [ -n "$n$h" ] || return 0
  printf '%s' "${n:-?}${h:+ ($h${p:+:$p})}"
}

cluster=${BATON_CLUSTER:-?}
case "${BATON_HOOK-}" in
  afterWriterChange) what="writer moved $(node BATON_OLD_WRITER) -> $(node BATON_NEW_WRITER)" ;;
  beforePromote) what="about to promote $(node BATON_NEW_WRITER) (writer was $(node BATON_OLD_WRITER))" ;;
  onFence) what="fenced $(node BATON_NODE)" ;;
  onFailoverSkipped) what="failover skipped" ;;
  *) what=${BATON_HOOK:-event} ;;
esac
text="baton [$cluster] $what"
[ -z "${BATON_EPOCH-}" ] || text="$text, epoch $BATON_EPOCH"
[ -z "${BATON_REASON-}" ] || text="$text, $BATON_REASON"
[ -z "${BATON_MESSAGE-}" ] || text="$text: $BATON_MESSAGE"
if [ "${BATON_LOST_GTIDS+set}" = set ]; then
  text="$text; possibly lost GTIDs: ${BATON_LOST_GTIDS:-none}"
fi
body="{\"$field\": \"$(json_string "$text")\"}"

set +e
out=$(printf 'url = "%s"\n' "$url" | curl --config - --silent --show-error --fail \
  --proto =http,https --max-time "$max_time" --connect-timeout "$max_time" \
  -H 'Content-Type: application/json' --data-binary "$body" -o /dev/null 2>&1)
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  # Never let the URL's path (its token) into stderr, which baton logs and records.
  printf '%s\n' "$out" | sed -e 's#\(https*://[^/[:space:]]*\)/[^[:space:]]*#\1/...#g' -e "s/^/$me: /" >&2
  echo "$me: post failed (curl exit $rc)" >&2
  exit 1
fi
printf '%s\n' "$me: posted: $text" >&2
