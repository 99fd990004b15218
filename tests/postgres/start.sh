#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests and prints its URL on stdout.
#
# usage: start.sh <directory> <pid>
#
# Installs Debian's `postgresql` package when no server is installed (as root, or through sudo),
# runs initdb and pg_ctl as the `postgres` user on <directory> and a free port, and stops the
# server once process <pid> (the test process) has exited.
set -euo pipefail
dir=$1
watch_pid=$2

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

bin=$(find_bin)
if [ -z "$bin" ]; then
  echo "installing Debian's postgresql package" >&2
  bash "$(dirname "$0")/../debian/install.sh" postgresql
  bin=$(find_bin)
fi
[ -n "$bin" ] || { echo "no PostgreSQL server could be installed" >&2; exit 1; }

# The server refuses to run as root: it runs as `postgres` (Debian's package creates the user).
if [ "$(id -u)" = 0 ]; then
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# A port picked free can be taken by another listener before the server binds it: then the start
# fails, and another port is tried.
for attempt in 1 2 3 4 5; do
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200" start >&2 \
    && break
  [ "$attempt" = 5 ] && { cat "$dir/server.log" >&2; exit 1; }
done

# Stop the server when the test process is gone, whatever way it ends.
nohup bash -c "while kill -0 $watch_pid 2>/dev/null; do sleep 1; done; $( [ "$(id -u)" = 0 ] && echo 'runuser -u postgres --' ) $bin/pg_ctl -D $dir/data -m immediate stop" \
  >/dev/null 2>&1 &

echo "postgres://postgres@127.0.0.1:$port/postgres"
