#!/usr/bin/env bash
# A project-local PostgreSQL for tests and the demo (the CRM database read by the dlt connector).
#
#   scripts/postgres.sh          install if needed, create the cluster if needed, start it (idempotent)
#   scripts/postgres.sh stop     stop it
#   scripts/postgres.sh status   say whether it runs (exit 3 when not)
#
# The server listens on 127.0.0.1 only, port $KIZUNA_PG_PORT (55432), with role kizuna/kizuna and
# database crm. Data lives in $KIZUNA_PG_DIR (default <project>/.pg); when the postgres user cannot
# reach the project folder (a checkout under /root, say) it lives in /tmp/kizuna-pg-<uid>-<port>.
# Messages go to stderr; on success the only line on stdout is the DSN.
# As root, PostgreSQL is installed with apt when no server is present and runs as the `postgres`
# system user (PostgreSQL refuses to run as root); as another user it runs as that user.
set -euo pipefail

PROJECT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
PORT=${KIZUNA_PG_PORT:-55432}
HOST=127.0.0.1
ROLE=kizuna
PASSWORD=kizuna
DATABASE=crm
ACTION=${1:-start}
UID_NOW=$(id -u)

say() { echo "postgres.sh: $*" >&2; }
die() { echo "postgres.sh: ERROR: $*" >&2; exit 1; }

case "$ACTION" in
  start|stop|status) ;;
  -h|--help|help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown command '$ACTION' (use: start, stop, status)" ;;
esac
[[ "$PORT" =~ ^[0-9]+$ ]] || die "KIZUNA_PG_PORT must be a number, got '$PORT'"

# --- the server binaries -------------------------------------------------------------------------
find_bindir() { # the newest installed major version that has a server
  local dir best="" major best_major=0
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/pg_ctl" && -x "$dir/initdb" && -x "$dir/postgres" ]] || continue
    major=$(basename "$(dirname "$dir")")
    [[ "$major" =~ ^[0-9]+$ ]] || continue
    if (( major > best_major )); then best=$dir; best_major=$major; fi
  done
  echo "$best"
}

install_postgres() {
  [[ "$UID_NOW" -eq 0 ]] || die "no PostgreSQL server is installed (/usr/lib/postgresql/*/bin/pg_ctl) \
and this is not root, so it cannot be installed here; install it with 'sudo apt-get install postgresql' \
or run this script as root"
  command -v apt-get >/dev/null || die "no PostgreSQL server is installed and apt-get is not available"
  export DEBIAN_FRONTEND=noninteractive
  # The package would create and start its own 'main' cluster on port 5432: we do not want it.
  mkdir -p /etc/postgresql-common/createcluster.d
  [[ -e /etc/postgresql-common/createcluster.d/kizuna.conf ]] ||
    echo "create_main_cluster = false  # written by kizuna scripts/postgres.sh" \
      > /etc/postgresql-common/createcluster.d/kizuna.conf
  local apt_opts=(-y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef
    -o Dpkg::Options::=--force-confold -o Dpkg::Use-Pty=0)
  local started=$SECONDS
  if ! apt-cache show postgresql >/dev/null 2>&1; then
    say "apt-get update (no package lists yet)"
    apt-get update -qq >&2 || die "apt-get update failed"
  fi
  say "installing PostgreSQL with apt (postgresql, --no-install-recommends)"
  if ! apt-get install "${apt_opts[@]}" postgresql >/tmp/kizuna-pg-apt.log 2>&1; then
    # stale package lists give 404s: refresh once and retry
    say "apt-get install failed; running apt-get update and retrying"
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install "${apt_opts[@]}" postgresql >/tmp/kizuna-pg-apt.log 2>&1 ||
      { tail -n 20 /tmp/kizuna-pg-apt.log >&2; die "apt-get install postgresql failed (log: /tmp/kizuna-pg-apt.log)"; }
  fi
  say "PostgreSQL installed in $((SECONDS - started))s"
}

BINDIR=$(find_bindir)
if [[ -z "$BINDIR" ]]; then
  [[ "$ACTION" == start ]] || die "PostgreSQL is not installed"
  install_postgres
  BINDIR=$(find_bindir)
  [[ -n "$BINDIR" ]] || die "apt installed PostgreSQL but no /usr/lib/postgresql/*/bin/pg_ctl was found"
fi

# --- who runs the server -------------------------------------------------------------------------
if [[ "$UID_NOW" -eq 0 ]]; then
  RUN_USER=postgres
  getent passwd postgres >/dev/null ||
    die "running as root but there is no 'postgres' system user to run the server as (the Debian package creates it)"
  # run from / so that tools started as postgres do not warn about an unreadable cwd
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
  RUN_USER=$(id -un)
  as_pg() { "$@"; }
fi

# --- where the data lives ------------------------------------------------------------------------
# The folder must be reachable (every parent searchable) by the user running the server.
reachable() { # $1: an existing directory
  as_pg test -x "$1" -a -r "$1"
}
nearest_existing() {
  local d=$1
  while [[ ! -d "$d" ]]; do d=$(dirname "$d"); done
  echo "$d"
}

if [[ -n "${KIZUNA_PG_DIR:-}" ]]; then
  PGDIR=$KIZUNA_PG_DIR
  [[ "$PGDIR" = /* ]] || PGDIR="$PWD/$PGDIR"
  reachable "$(nearest_existing "$(dirname "$PGDIR")")" ||
    die "KIZUNA_PG_DIR=$PGDIR is not reachable by the user '$RUN_USER' that runs the server; pick a folder it can enter (e.g. under /tmp)"
else
  PGDIR="$PROJECT/.pg"
  if ! reachable "$PROJECT"; then
    PGDIR="/tmp/kizuna-pg-$UID_NOW-$PORT"
    if [[ "$ACTION" == start ]]; then
      say "the project folder is not readable by '$RUN_USER'; the data lives in $PGDIR instead"
    fi
  fi
fi
PGDATA="$PGDIR/data"
LOGFILE="$PGDIR/postgres.log"
# Unix sockets have a ~107 byte path limit; the socket only serves this script's admin steps.
SOCKDIR="$PGDIR"
if (( ${#SOCKDIR} > 90 )); then SOCKDIR="/tmp"; fi
DSN="postgresql://$ROLE:$PASSWORD@$HOST:$PORT/$DATABASE"

is_running() {
  [[ -f "$PGDATA/PG_VERSION" ]] && as_pg "$BINDIR/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

if [[ "$ACTION" == status ]]; then
  if is_running; then say "running, data in $PGDATA"; echo "$DSN"; exit 0; fi
  say "not running (data dir $PGDATA)"; exit 3
fi

if [[ "$ACTION" == stop ]]; then
  if is_running; then
    as_pg "$BINDIR/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >&2
    say "stopped (data kept in $PGDATA)"
  else
    say "not running (data dir $PGDATA)"
  fi
  exit 0
fi

# --- start: one caller at a time (parallel test workers may all call us) ------------------------
exec 9>"/tmp/kizuna-pg-$UID_NOW-$PORT.lock"
flock -w 300 9 || die "another scripts/postgres.sh holds /tmp/kizuna-pg-$UID_NOW-$PORT.lock"

if [[ ! -f "$PGDATA/PG_VERSION" ]]; then
  mkdir -p "$PGDIR"
  chmod 700 "$PGDIR"
  if [[ "$UID_NOW" -eq 0 ]]; then chown postgres: "$PGDIR"; fi
  # keep the cluster out of git when it lives inside the checkout
  [[ -e "$PGDIR/.gitignore" ]] || as_pg sh -c "echo '*' > '$PGDIR/.gitignore'"
  if [[ -e "$PGDATA" ]] && [[ -n "$(ls -A "$PGDATA" 2>/dev/null)" ]]; then
    die "$PGDATA exists, is not empty and holds no cluster (no PG_VERSION): remove it or set KIZUNA_PG_DIR"
  fi
  say "creating a cluster in $PGDATA ($("$BINDIR/postgres" --version))"
  as_pg "$BINDIR/initdb" -D "$PGDATA" -E UTF8 --locale=C.UTF-8 --auth-local=peer \
    --auth-host=scram-sha-256 >"$PGDIR/initdb.log" 2>&1 ||
    as_pg "$BINDIR/initdb" -D "$PGDATA" -E UTF8 --locale=C --auth-local=peer \
      --auth-host=scram-sha-256 >"$PGDIR/initdb.log" 2>&1 ||
    { tail -n 20 "$PGDIR/initdb.log" >&2; die "initdb failed (log: $PGDIR/initdb.log)"; }
  # Only this project's settings; command-line options below win anyway.
  as_pg sh -c "cat >> '$PGDATA/postgresql.conf'" <<'EOF'

# --- kizuna (scripts/postgres.sh) ---
listen_addresses = '127.0.0.1'
timezone = 'UTC'
log_timezone = 'UTC'
shared_buffers = 64MB
fsync = off                 # a disposable test and demo database: speed over durability
synchronous_commit = off
full_page_writes = off
EOF
fi

if is_running; then
  say "already running (data in $PGDATA)"
else
  if "$BINDIR/pg_isready" -q -h "$HOST" -p "$PORT" >/dev/null 2>&1; then
    # Another checkout's server (a second clone, a CI dry run) with our role and database will do.
    if PGPASSWORD="$PASSWORD" PGCONNECT_TIMEOUT=5 "$BINDIR/psql" -X -q -tA "$DSN" -c "SELECT 1" >/dev/null 2>&1; then
      say "a PostgreSQL on $HOST:$PORT already serves role $ROLE and database $DATABASE: using it"
      echo "$DSN"
      exit 0
    fi
    die "something else already listens on $HOST:$PORT; stop it or set KIZUNA_PG_PORT"
  fi
  say "starting PostgreSQL on $HOST:$PORT (data in $PGDATA, log $LOGFILE)"
  if ! as_pg "$BINDIR/pg_ctl" -D "$PGDATA" -l "$LOGFILE" -w -t 60 \
      -o "-p $PORT -c listen_addresses=$HOST -c unix_socket_directories=$SOCKDIR" start \
      >/dev/null 2>&1 9>&-; then  # 9>&-: the server must not inherit (and so hold) our lock
    tail -n 20 "$LOGFILE" >&2 || true
    die "PostgreSQL did not start (log: $LOGFILE)"
  fi
fi

# --- role and database (idempotent) --------------------------------------------------------------
SUPERUSER=$RUN_USER
psql_admin() {
  as_pg "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKDIR" -p "$PORT" -U "$SUPERUSER" -d postgres "$@"
}
# the port in postmaster.opts may differ from $PORT if the cluster was started by hand
psql_admin -tAc "SELECT 1" >/dev/null 2>&1 ||
  die "the running cluster in $PGDATA does not answer on $SOCKDIR port $PORT (started with another port? run '$0 stop' first)"
psql_admin >/dev/null <<EOF
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '$ROLE', '$PASSWORD')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') \\gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$DATABASE', '$ROLE')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DATABASE') \\gexec
EOF

say "ready: role $ROLE, database $DATABASE on $HOST:$PORT (data in $PGDATA; stop with '$0 stop')"
echo "$DSN"
