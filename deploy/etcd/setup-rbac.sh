#!/usr/bin/env bash
# Sets up etcd role-based access control for one baton deployment, then enables etcd auth.
# Idempotent: run it again after adding a cluster, or to reset a password. README "etcd RBAC".
#
# No password ever appears in an argument list, ours or etcdctl's: they come from owner-only
# files or stdin; etcdctl gets root's in its environment (ETCDCTL_PASSWORD) and a new user's on
# its stdin (`user add --interactive=false`, which etcdctl 3.4 reads with Scanf("%s"): one word,
# so a password with white space would be cut short silently; this script refuses one).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: setup-rbac.sh --cluster NAME [--cluster NAME ...] [options]

Gives one baton deployment its own etcd roles and users, creates etcd's root user when it is
missing, and enables etcd auth. Running it again changes only what differs.

  --cluster NAME       a cluster of the deployment (config clusters[].name); repeat for each.
                       Its keys are /baton/NAME/: the roles grant exactly those prefixes.
  --name PREFIX        prefix of the roles' and users' names (default: baton)

Passwords, one line each, no white space (etcdctl reads one word):
  --root-password-file FILE
  --coordinator-password-file FILE
  --operator-password-file FILE
  --viewer-password-file FILE
                       a file only its owner can read (mode 0600 or 0400). Each password
                       given no file is read from stdin instead, one line each, in the order
                       root, coordinator, operator, viewer (on a terminal, prompted unechoed).

Where etcd is (etcdctl's own environment variables work too):
  --endpoints URLS     client URLs, comma-separated (ETCDCTL_ENDPOINTS), e.g.
                       https://10.0.0.1:2379,https://10.0.1.1:2379,https://10.0.2.1:2379
  --cacert FILE        CA that signed etcd's server certificates (ETCDCTL_CACERT)
  --cert FILE          client certificate, for etcd's --client-cert-auth (ETCDCTL_CERT)
  --key FILE           its private key (ETCDCTL_KEY)

What it makes (PREFIX from --name):
  role PREFIX-rw            readwrite on /baton/NAME/ for each --cluster, nothing else
  role PREFIX-ro            read on the same prefixes
  user PREFIX-coordinator   role PREFIX-rw: `baton run` (config etcd.auth)
  user PREFIX-operator      role PREFIX-rw: the CLI, which writes intents (pin, switchover...)
  user PREFIX-viewer        role PREFIX-ro: baton status, history, writer, doctor
  user root                 role root, when missing; then `etcdctl auth enable`
A user's password is set when the user is new, while auth is still off, or when it no longer
logs in; permissions a role holds beyond these are reported, never revoked.

Exit status: 0 done, 1 etcd refused or failed (its message is printed), 2 usage.
EOF
}

die() {
  echo "setup-rbac: $*" >&2
  exit 1
}
usage_error() {
  echo "setup-rbac: $*" >&2
  echo "(run with --help for usage)" >&2
  exit 2
}

clusters=()
prefix=baton
declare -A password_file=()
while (($#)); do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --cluster | --name | --endpoints | --cacert | --cert | --key | --*-password-file)
      (($# >= 2)) || usage_error "$1 needs a value"
      case "$1" in
        --cluster) clusters+=("$2") ;;
        --name) prefix=$2 ;;
        --endpoints) export ETCDCTL_ENDPOINTS=$2 ;;
        --cacert) export ETCDCTL_CACERT=$2 ;;
        --cert) export ETCDCTL_CERT=$2 ;;
        --key) export ETCDCTL_KEY=$2 ;;
        --root-password-file | --coordinator-password-file | --operator-password-file | --viewer-password-file)
          who=${1#--}
          password_file[${who%-password-file}]=$2
          ;;
        *) usage_error "unknown option $1" ;;
      esac
      shift 2
      ;;
    -*) usage_error "unknown option $1" ;;
    *) usage_error "unexpected argument $1" ;;
  esac
done

# baton's own rule for names (config clusters[].name), so /baton/NAME/ is exactly its keys.
name_pattern='^[a-z0-9][a-z0-9_-]{0,62}$'
((${#clusters[@]})) || usage_error "give at least one --cluster NAME"
for cluster in "${clusters[@]}"; do
  [[ $cluster =~ $name_pattern ]] || usage_error "--cluster $cluster: expected lowercase letters, digits, - or _ (max 63)"
done
[[ $prefix =~ $name_pattern ]] || usage_error "--name $prefix: expected lowercase letters, digits, - or _ (max 63)"
for file in "${ETCDCTL_CACERT:-}" "${ETCDCTL_CERT:-}" "${ETCDCTL_KEY:-}"; do
  [ -z "$file" ] || [ -r "$file" ] || usage_error "cannot read $file"
done
command -v etcdctl >/dev/null || die "etcdctl not found (Debian: apt-get install etcd-client)"

# Ours only: a caller's ETCDCTL_USER would otherwise decide who we act as.
unset ETCDCTL_USER ETCDCTL_PASSWORD
export ETCDCTL_API=3

declare -A password=()
# The password of `who` from its file, else from stdin; refused when empty or with white space.
read_password() {
  local who=$1 file=${password_file[$1]:-} value=''
  if [ -n "$file" ]; then
    [ -f "$file" ] || usage_error "--$who-password-file $file: not a regular file"
    local mode
    mode=$(stat -L -c '%a' "$file")
    ((8#$mode & 8#077)) && usage_error "--$who-password-file $file: others can read it (mode $mode); make it owner-only: chmod 600 $file"
    IFS= read -r value <"$file" || [ -n "$value" ] || usage_error "--$who-password-file $file: empty"
  elif [ -t 0 ]; then
    IFS= read -r -s -p "etcd password for $who: " value || true
    echo >&2
  else
    IFS= read -r value || [ -n "$value" ] || usage_error "no password for $who: give --$who-password-file FILE or a line on stdin (order: root, coordinator, operator, viewer)"
  fi
  value=${value%$'\r'}
  [ -n "$value" ] || usage_error "the $who password is empty"
  [[ $value =~ [[:space:]] ]] && usage_error "the $who password contains white space, which etcdctl 3.4 would cut short: choose another"
  password[$who]=$value
}
for who in root coordinator operator viewer; do read_password "$who"; done

errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
# etcd's words from etcdctl's last "Error: ..." line (its other stderr lines are retry noise).
last_error() {
  local line
  line=$(grep '^Error:' "$errors" | tail -n 1 || true)
  [ -n "$line" ] || line=$(tail -n 1 "$errors")
  line=${line#Error: }
  echo "${line#etcdserver: }"
}

# Runs etcdctl as root (when auth is on; while it is off etcd ignores the login), the password in
# its environment; stdin is what the caller redirects. Output in $out, etcd's error line in $err.
out=''
err=''
as_root() {
  local status=0
  out=$(ETCDCTL_USER=root ETCDCTL_PASSWORD=${password[root]} etcdctl "$@" 2>"$errors") || status=$?
  err=$(last_error)
  return "$status"
}
# etcdctl as root, fatal on failure with etcd's words.
must() {
  as_root "$@" </dev/null || die "etcdctl $1 $2 failed: ${err:-exit status $?}"
}
# Sets user $1's password (root's included) from password[$2], on etcdctl's stdin.
set_password() {
  printf '%s\n' "${password[$2]}" | as_root user passwd "$1" --interactive=false ||
    die "setting the password of $1 failed: $err"
}

# Is auth on? While it is off etcd takes any login, even of a user that does not exist; a client
# certificate cannot confuse this (a login, when given, decides who the caller is).
auth_on=false
if ! ETCDCTL_USER=setup-rbac-probe ETCDCTL_PASSWORD=none etcdctl user list >/dev/null 2>"$errors" </dev/null; then
  case "$(cat "$errors")" in
    *"authentication failed"*) auth_on=true ;;
    *)
      hint=''
      [[ ${ETCDCTL_ENDPOINTS:-} == *https://* ]] && hint=" (over https a TLS mistake looks like this too: check --cacert, and --cert and --key if etcd runs with --client-cert-auth)"
      die "etcd did not answer at ${ETCDCTL_ENDPOINTS:-127.0.0.1:2379}: $(last_error)$hint"
      ;;
  esac
fi

# root: with auth on, its password must already work; with auth off, it is made to.
if $auth_on; then
  as_root user get root </dev/null || {
    case "$err" in
      *"authentication failed"*) die "etcd refused root's password: auth is already on, so the root password given must be root's current one" ;;
      *) die "etcdctl user get root failed: $err" ;;
    esac
  }
  echo "root: logs in (auth already on)"
else
  if as_root user get root </dev/null; then
    set_password root root
    echo "root: exists, password set"
  elif [[ $err == *"user name not found"* ]]; then
    printf '%s\n' "${password[root]}" | as_root user add root --interactive=false || die "creating root failed: $err"
    echo "root: created"
  else
    die "etcdctl user get root failed: $err"
  fi
  as_root role get root </dev/null || must role add root
  must user grant-role root root
fi

# Roles: each desired prefix granted once; anything else the role holds is only reported.
# $1 role, $2 read|readwrite. `role get` lists ranges under "KV Read:" and "KV Write:".
ensure_role() {
  local role=$1 kind=$2 section='' line cluster want have
  declare -A reads=() writes=()
  local others=()
  if ! as_root role get "$role" </dev/null; then
    [[ $err == *"role name not found"* ]] || die "etcdctl role get $role failed: $err"
    must role add "$role"
    echo "role $role: created"
  fi
  while IFS= read -r line; do
    case "$line" in
      "KV Read:") section="read" ;;
      "KV Write:") section="write" ;;
      *"(prefix "*")")
        want=${line##*"(prefix "}
        want=${want%)}
        if [ "$section" = read ]; then reads[$want]=1; else writes[$want]=1; fi
        ;;
      $'\t'*) others+=("${line#$'\t'}") ;;
    esac
  done <<<"$out"
  declare -A desired=()
  for cluster in "${clusters[@]}"; do
    want=/baton/$cluster/
    desired[$want]=1
    # readwrite shows under both headings; read only under the first.
    have=false
    if [ -n "${reads[$want]:-}" ]; then
      case "$kind:${writes[$want]:-}" in readwrite:1 | read:) have=true ;; esac
    fi
    if $have; then
      echo "role $role: $kind $want (already)"
    else
      must role grant-permission "$role" --prefix=true "$kind" "$want"
      echo "role $role: $kind $want (granted)"
    fi
  done
  for want in "${!reads[@]}" "${!writes[@]}"; do
    [ -n "${desired[$want]:-}" ] && continue
    echo "setup-rbac: warning: role $role also grants the prefix $want; if no cluster of this deployment needs it: etcdctl role revoke-permission $role --prefix=true $want" >&2
    desired[$want]=1
  done
  for line in ${others[@]+"${others[@]}"}; do
    echo "setup-rbac: warning: role $role also grants $line; if nothing needs it, revoke it (etcdctl role revoke-permission)" >&2
  done
}
ensure_role "$prefix-rw" readwrite
ensure_role "$prefix-ro" read

# Users: $1 user, $2 whose password, $3 role.
ensure_user() {
  local user=$1 who=$2 role=$3 info
  if as_root user get "$user" </dev/null; then
    info=$out
    # A user that logs in keeps its password: changing it (or any auth data) makes every JWT
    # issued so far stale, and every coordinator would have to log in again.
    if ! $auth_on; then
      set_password "$user" "$who"
      echo "user $user: exists, password set"
    elif ETCDCTL_USER=$user ETCDCTL_PASSWORD=${password[$who]} etcdctl user get "$user" >/dev/null 2>"$errors" </dev/null ||
      ! grep -q "authentication failed" "$errors"; then
      echo "user $user: exists, logs in"
    else
      set_password "$user" "$who"
      echo "user $user: exists, password set (the one it had did not match)"
    fi
  elif [[ $err == *"user name not found"* ]]; then
    printf '%s\n' "${password[$who]}" | as_root user add "$user" --interactive=false || die "creating $user failed: $err"
    info=''
    echo "user $user: created"
  else
    die "etcdctl user get $user failed: $err"
  fi
  # `user get` prints "Roles: r1 r2".
  local roles other
  roles=$(sed -n 's/^Roles: *//p' <<<"$info")
  if [[ " $roles " != *" $role "* ]]; then
    must user grant-role "$user" "$role"
    echo "user $user: granted role $role"
  fi
  for other in $roles; do
    [ "$other" = "$role" ] && continue
    echo "setup-rbac: warning: user $user also holds role $other; if it should not: etcdctl user revoke-role $user $other" >&2
  done
}
ensure_user "$prefix-coordinator" coordinator "$prefix-rw"
ensure_user "$prefix-operator" operator "$prefix-rw"
ensure_user "$prefix-viewer" viewer "$prefix-ro"

if $auth_on; then
  echo "auth: already on"
else
  must auth enable
  echo "auth: enabled"
fi
