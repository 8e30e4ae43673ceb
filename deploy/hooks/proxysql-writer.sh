#!/bin/sh
# proxysql-writer.sh: move the writer in ProxySQL's hostgroups to baton's new writer (an
# afterWriterChange hook).
#
# UNTESTED AGAINST A REAL PROXYSQL: ProxySQL is not packaged in Debian, so this script has only
# been syntax-checked (`sh -n`) and run against a stand-in client that records its arguments
# and applies the statements to an SQLite table with ProxySQL 2.x's mysql_servers schema
# (test/unit/hooks/hook-runner.test.ts). Try it on a staging ProxySQL before relying on it.
#
# What it does, through ProxySQL's admin interface (port 6032 by default), in one session:
#   - every other server in the writer hostgroup (the old writer, whatever it was) is set
#     OFFLINE_SOFT (default: its open transactions finish, no new ones start), or, with
#     --old-writer reader, moved to the reader hostgroup (think twice: after a failover the old
#     writer may hold errant transactions and baton quarantines it);
#   - the new writer is added to the writer hostgroup if missing, and set ONLINE;
#   - LOAD MYSQL SERVERS TO RUNTIME (the one step that changes routing, all of it at once);
#     SAVE MYSQL SERVERS TO DISK;
#   - prints the writer hostgroup's runtime rows to stderr, on one line (baton records it).
# The server is matched by hostname and port exactly as baton's config names it
# (clusters[].nodes[].host/port): use the same strings in ProxySQL's mysql_servers.
# Do not use it for hostgroups in mysql_replication_hostgroups: ProxySQL then moves servers by
# read_only itself (which baton's fencing already drives), and the two would fight.
#
# Usage (argv in baton's YAML; none of these is a secret):
#   proxysql-writer.sh --defaults-file /etc/baton/proxysql-admin.cnf \
#     --writer-hostgroup 10 --reader-hostgroup 20 [--old-writer offline-soft|reader] \
#     [--client /usr/bin/mariadb] [--connect-timeout 3]
#
# Reads: BATON_NEW_WRITER_HOST and BATON_NEW_WRITER_PORT (required), BATON_NEW_WRITER,
#   BATON_EPOCH (for the message).
# Secrets: the admin user and password live in --defaults-file, an option file read by the
#   client itself (--defaults-extra-file), mode 0600:
#     [client]
#     host = 127.0.0.1
#     port = 6032
#     user = radmin
#     password = ...
#   They are never in argv or the environment.
# Needs: the mariadb or mysql command-line client (Debian: mariadb-client).
set -eu

me=proxysql-writer
die() { echo "$me: $*" >&2; exit 2; }
need() { [ $# -ge 2 ] || die "$1 needs a value"; }

defaults='' writer_hg='' reader_hg='' old_mode=offline-soft client='' connect_timeout=3
while [ $# -gt 0 ]; do
  case "$1" in
    --defaults-file) need "$@"; defaults=$2; shift 2 ;;
    --writer-hostgroup) need "$@"; writer_hg=$2; shift 2 ;;
    --reader-hostgroup) need "$@"; reader_hg=$2; shift 2 ;;
    --old-writer) need "$@"; old_mode=$2; shift 2 ;;
    --client) need "$@"; client=$2; shift 2 ;;
    --connect-timeout) need "$@"; connect_timeout=$2; shift 2 ;;
    *) die "unknown argument: $1" ;;
  esac
done

is_number() { case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }
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
  case "$1" in *[!0-9.]*) ;; *) return 1 ;; esac
  [ "${#1}" -le 253 ] || return 1
  printf '%s\n' "$1" | grep -Eq '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$'
}

[ -n "$defaults" ] || die "--defaults-file is required (the admin credentials)"
[ -r "$defaults" ] || die "--defaults-file: cannot read $defaults"
is_number "$writer_hg" || die "--writer-hostgroup: not a number: ${writer_hg:-(none)}"
case "$old_mode" in
  offline-soft) ;;
  reader) is_number "$reader_hg" || die "--reader-hostgroup: not a number: ${reader_hg:-(none)}" ;;
  *) die "--old-writer: offline-soft or reader, not $old_mode" ;;
esac
[ -z "$reader_hg" ] || is_number "$reader_hg" || die "--reader-hostgroup: not a number: $reader_hg"
[ "$reader_hg" != "$writer_hg" ] || die "the reader and writer hostgroups must differ"
is_number "$connect_timeout" || die "--connect-timeout: not a number: $connect_timeout"
if [ -z "$client" ]; then
  client=$(command -v mariadb || command -v mysql || true)
  [ -n "$client" ] || die "neither mariadb nor mysql is in PATH; give --client"
fi

host=${BATON_NEW_WRITER_HOST-}
port=${BATON_NEW_WRITER_PORT-}
[ -n "$host" ] || die "BATON_NEW_WRITER_HOST is not set: run this as an afterWriterChange hook"
# The checks leave no quote, backslash, space or newline in the values the SQL quotes.
is_ipv4 "$host" || is_ipv6 "$host" || is_hostname "$host" ||
  die "BATON_NEW_WRITER_HOST is not an IPv4/IPv6 literal or a host name, refusing: $host"
is_number "$port" && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
  die "BATON_NEW_WRITER_PORT is not a port: ${port:-(none)}"

others="hostgroup_id = $writer_hg AND NOT (hostname = '$host' AND port = $port)"
sql() {
  if [ "$old_mode" = reader ]; then
    echo "INSERT OR IGNORE INTO mysql_servers (hostgroup_id, hostname, port) SELECT $reader_hg, hostname, port FROM mysql_servers WHERE $others;"
    echo "DELETE FROM mysql_servers WHERE $others;"
  else
    echo "UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE $others;"
  fi
  echo "INSERT OR IGNORE INTO mysql_servers (hostgroup_id, hostname, port) VALUES ($writer_hg, '$host', $port);"
  echo "UPDATE mysql_servers SET status = 'ONLINE' WHERE hostgroup_id = $writer_hg AND hostname = '$host' AND port = $port;"
  echo "LOAD MYSQL SERVERS TO RUNTIME;"
  echo "SAVE MYSQL SERVERS TO DISK;"
  echo "SELECT hostgroup_id, hostname, port, status FROM runtime_mysql_servers WHERE hostgroup_id = $writer_hg ORDER BY hostname, port;"
}

set +e
# --defaults-extra-file must come first; the password never leaves that file.
out=$(sql | "$client" --defaults-extra-file="$defaults" --batch --skip-column-names \
  --connect-timeout="$connect_timeout" 2>&1)
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  printf '%s\n' "$out" | sed "s/^/$me: /" >&2
  echo "$me: moving writer hostgroup $writer_hg to $host:$port failed ($client exit $rc)" >&2
  exit 1
fi
# One line (baton keeps the last three): "10.0.0.1:3306 OFFLINE_SOFT, 10.0.0.2:3306 ONLINE".
runtime=$(printf '%s\n' "$out" | awk -F '\t' 'NF >= 4 { printf "%s%s:%s %s", (n++ ? ", " : ""), $2, $3, $4 }')
echo "$me: writer hostgroup $writer_hg -> $host:$port${BATON_NEW_WRITER:+ ($BATON_NEW_WRITER)}${BATON_EPOCH:+, epoch $BATON_EPOCH}; runtime: ${runtime:-(empty)}" >&2
