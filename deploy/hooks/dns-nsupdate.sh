#!/bin/sh
# dns-nsupdate.sh: point a DNS name at baton's new writer (an afterWriterChange hook).
#
# What it does: one RFC 2136 dynamic update, signed with a TSIG key, sent to the zone's
# primary with nsupdate. In that ONE update (atomic: the server applies all of it or none):
#   - every A, AAAA and CNAME record at --name is deleted (whatever the old writer was);
#   - the new record is added with a low TTL (--ttl, default 10 s): an A record for an IPv4
#     literal, AAAA for an IPv6 literal, CNAME for a host name (give nodes fully qualified
#     names then: an unqualified one gets a trailing dot and means a top-level name);
#   - the epoch guard: a TXT record "epoch=N" at _baton-epoch.<name> is replaced, on the
#     prerequisite that it still holds the value read just before. A late run for an older
#     epoch (a previous leader's queue, say) therefore never points the name back at an old
#     writer: it sees a newer epoch, leaves DNS alone and exits 0; a concurrent change makes
#     the prerequisite fail and the read-and-update is retried (3 attempts).
#     --no-epoch-guard turns this off; without BATON_EPOCH there is no guard either.
# It refuses (exit 2, one line on stderr) a BATON_NEW_WRITER_HOST that is not an IPv4 or IPv6
# literal or a host name, and any argument that is not a plain DNS name, number or path: no
# value can smuggle a second command into nsupdate's input.
#
# Usage (argv in baton's YAML; none of these is a secret):
#   dns-nsupdate.sh --server 192.0.2.53 [--port 53] --zone db.example. \
#     --name writer.db.example. --key-file /etc/baton/dns.key [--ttl 10] [--timeout 5] \
#     [--no-epoch-guard]
#
# Reads: BATON_NEW_WRITER_HOST (required), BATON_EPOCH (the guard), BATON_NEW_WRITER,
#   BATON_CLUSTER (for the message).
# Secrets: the TSIG key lives in --key-file, a named.conf-style `key` statement as written by
#   `tsig-keygen NAME > FILE` (mode 0600, readable by baton's user); nsupdate and dig read it
#   themselves, so the key is never in argv or in the environment.
# Needs: nsupdate and dig (Debian: bind9-dnsutils). The server's zone must allow the key to
#   update the name and _baton-epoch.<name>, e.g.
#   update-policy { grant baton-key name writer.db.example. A AAAA CNAME;
#                   grant baton-key name _baton-epoch.writer.db.example. TXT; };
#
# Tested: test/integration/hooks-dns.test.ts runs it through baton's hook runner (clean
# environment, BATON_* set as baton sets them) against a real BIND 9.18 `named` (Debian
# bookworm's bind9) on 127.0.0.1 with a tsig-keygen key, and checks with dig: the A record
# replaced in one update (old address gone, TTL set), IPv6 -> AAAA with the A gone, a host
# name -> CNAME, an older epoch leaving the record alone, a bad host refused, a wrong key
# failing. `sh -n` in test/unit/hooks/hook-runner.test.ts.
set -eu

me=dns-nsupdate
die() { echo "$me: $*" >&2; exit 2; }

# Every option but the last takes a value.
need() { [ $# -ge 2 ] || die "$1 needs a value"; }
server='' port=53 zone='' name='' key_file='' ttl=10 timeout=5 guard=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --server) need "$@"; server=$2; shift 2 ;;
    --port) need "$@"; port=$2; shift 2 ;;
    --zone) need "$@"; zone=$2; shift 2 ;;
    --name) need "$@"; name=$2; shift 2 ;;
    --key-file) need "$@"; key_file=$2; shift 2 ;;
    --ttl) need "$@"; ttl=$2; shift 2 ;;
    --timeout) need "$@"; timeout=$2; shift 2 ;;
    --no-epoch-guard) guard=no; shift ;;
    *) die "unknown argument: $1" ;;
  esac
done

is_number() { case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }
# Letters, digits, dots, hyphens (and underscores in names of our own); a newline, a space or
# a quote fails the character check before any regular expression sees the value.
is_dns_name() {
  case "$1" in '' | *[!A-Za-z0-9._-]* | *..*) return 1 ;; esac
  [ "${#1}" -le 254 ]
}
is_ipv4() {
  case "$1" in '' | *[!0-9.]*) return 1 ;; esac
  printf '%s\n' "$1" | grep -Eq '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$'
}
is_ipv6() {
  case "$1" in '' | *[!0-9A-Fa-f:.]* | *:::*) return 1 ;; *:*:*) ;; *) return 1 ;; esac
  [ "${#1}" -le 45 ]
}
is_hostname() {
  case "$1" in '' | *[!A-Za-z0-9.-]*) return 1 ;; esac
  case "$1" in *[!0-9.]*) ;; *) return 1 ;; esac # digits and dots only: a bad IPv4, not a name
  [ "${#1}" -le 254 ] || return 1
  printf '%s\n' "$1" | grep -Eq '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$'
}
absolute() { case "$1" in *.) printf '%s' "$1" ;; *) printf '%s.' "$1" ;; esac; }

[ -n "$server" ] || die "--server is required"
is_ipv4 "$server" || is_ipv6 "$server" || is_hostname "$server" || die "--server: not an address or host name: $server"
is_number "$port" || die "--port: not a number: $port"
is_dns_name "$zone" || die "--zone: not a DNS name: ${zone:-(none)}"
is_dns_name "$name" || die "--name: not a DNS name: ${name:-(none)}"
[ -n "$key_file" ] || die "--key-file is required"
[ -r "$key_file" ] || die "--key-file: cannot read $key_file"
is_number "$ttl" || die "--ttl: not a number: $ttl"
is_number "$timeout" && [ "$timeout" -gt 0 ] || die "--timeout: not a positive number: $timeout"
zone=$(absolute "$zone")
name=$(absolute "$name")
epoch_name="_baton-epoch.$name"

host=${BATON_NEW_WRITER_HOST-}
[ -n "$host" ] || die "BATON_NEW_WRITER_HOST is not set: run this as an afterWriterChange hook"
if is_ipv4 "$host"; then
  type=A data=$host
elif is_ipv6 "$host"; then
  type=AAAA data=$host
elif is_hostname "$host"; then
  type=CNAME data=$(absolute "$host")
else
  die "BATON_NEW_WRITER_HOST is not an IPv4/IPv6 literal or a host name, refusing: $host"
fi

epoch=${BATON_EPOCH-}
if [ -z "$epoch" ]; then
  guard=no
else
  is_number "$epoch" || die "BATON_EPOCH is not a number: $epoch"
fi

# The epoch DNS has now: prints "none" or the number; fails when the server does not answer.
current_epoch() {
  answer=$(dig +short +time=2 +tries=2 -k "$key_file" -p "$port" "@$server" "$epoch_name" TXT) ||
    { echo "$me: dig could not read $epoch_name from $server port $port" >&2; return 1; }
  answer=$(printf '%s\n' "$answer" | sed -e '/^;/d' -e '/^$/d')
  case "$answer" in
    '') echo none ;;
    *'
'*) echo "$me: $epoch_name holds several TXT records, refusing to guess: $answer" >&2; return 1 ;;
    '"epoch='*'"')
      value=${answer#'"epoch='}
      value=${value%'"'}
      is_number "$value" || { echo "$me: $epoch_name holds $answer, not epoch=N" >&2; return 1; }
      echo "$value"
      ;;
    *) echo "$me: $epoch_name holds $answer, not \"epoch=N\"" >&2; return 1 ;;
  esac
}

attempt=1
while :; do
  prereq=''
  if [ "$guard" = yes ]; then
    seen=$(current_epoch) || exit 1
    if [ "$seen" = none ]; then
      prereq="prereq nxrrset $epoch_name TXT"
    elif [ "$seen" -gt "$epoch" ]; then
      echo "$me: $name already follows epoch $seen, newer than this run's $epoch: left alone" >&2
      exit 0
    else
      prereq="prereq yxrrset $epoch_name TXT \"epoch=$seen\""
    fi
  fi
  set +e
  out=$(
    {
      echo "server $server $port"
      echo "zone $zone"
      [ -z "$prereq" ] || echo "$prereq"
      echo "update delete $name A"
      echo "update delete $name AAAA"
      echo "update delete $name CNAME"
      echo "update add $name $ttl $type $data"
      if [ "$guard" = yes ]; then
        echo "update delete $epoch_name TXT"
        echo "update add $epoch_name $ttl TXT \"epoch=$epoch\""
      fi
      echo "send"
    } | nsupdate -k "$key_file" -t "$timeout" -u 1 -r 2 2>&1
  )
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    echo "$me: $name $type $data, ttl $ttl${epoch:+, epoch $epoch}${BATON_NEW_WRITER:+ (writer ${BATON_NEW_WRITER}${BATON_CLUSTER:+ of $BATON_CLUSTER})}" >&2
    exit 0
  fi
  case "$out" in
    *NXRRSET* | *YXRRSET*)
      # The epoch record changed between our read and our update: read it again.
      if [ "$attempt" -lt 3 ]; then
        attempt=$((attempt + 1))
        continue
      fi
      ;;
  esac
  printf '%s\n' "$out" | sed "s/^/$me: nsupdate: /" >&2
  echo "$me: update of $name to $data failed (nsupdate exit $rc)" >&2
  exit 1
done
