#!/usr/bin/env bash
# Starts nginx as a gRPC proxy (grpc_pass, keep-alive upstream connections) in front of netplane
# replicas, for the drain tests, and prints its address on stdout.
#
# usage: start.sh <directory> <pid> <upstream host:port>...
#
# Installs Debian's `nginx` package when nginx is missing (as root, or through sudo), writes a
# configuration in <directory>, starts nginx on a free port, and stops it once process <pid> (the
# test process) has exited, if the test has not stopped it before. Prints `<host:port> <nginx pid>`.
set -euo pipefail
dir=$1
watch_pid=$2
shift 2

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
nginx_bin=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)
if [ -z "$nginx_bin" ]; then
  echo "installing Debian's nginx package" >&2
  bash "$(dirname "$0")/../debian/install.sh" --no-install-recommends nginx
  nginx_bin=$(command -v nginx || ls /usr/sbin/nginx)
fi
# The package starts a system nginx on port 80; the tests need only the binary.
as_root systemctl stop nginx >/dev/null 2>&1 || true

mkdir -p "$dir/logs" "$dir/tmp"
# A port picked free can be taken by another test's listener before nginx binds it: then nginx
# fails to start, and another port is tried.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
servers=""
for upstream in "$@"; do servers="$servers    server $upstream max_fails=0;"$'\n'; done
for attempt in 1 2 3 4 5; do
  port=$(free_port)
  cat >"$dir/nginx.conf" <<CONF
daemon on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log info;
worker_processes 1;
events { worker_connections 1024; }
http {
  access_log $dir/logs/access.log;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  upstream netplane {
$servers    keepalive 16;
  }
  server {
    listen 127.0.0.1:$port http2;
    # The clients' own connection to nginx is not what is tested: nginx's default of 1,000 calls
    # per connection would end it with GOAWAY mid-test.
    keepalive_requests 1000000;
    keepalive_time 1h;
    location / {
      grpc_pass grpc://netplane;
      # The default: a call is tried on the next replica when connecting fails (a draining
      # replica refuses connections), never once it has been sent.
      grpc_next_upstream error timeout;
      grpc_connect_timeout 2s;
    }
  }
}
CONF
  "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" >&2 && break
  [ "$attempt" = 5 ] && { echo "nginx did not start" >&2; exit 1; }
done

# The pid now: <directory> may be gone by the time the test process exits.
for _ in $(seq 50); do [ -s "$dir/nginx.pid" ] && break; sleep 0.1; done
nginx_pid=$(cat "$dir/nginx.pid")
nohup bash -c "while kill -0 $watch_pid 2>/dev/null; do sleep 1; done; kill $nginx_pid 2>/dev/null" >/dev/null 2>&1 &

echo "127.0.0.1:$port $nginx_pid"
