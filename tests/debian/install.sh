#!/usr/bin/env bash
# Installs Debian packages for the tests (as root, or through sudo), one install at a time.
#
# usage: install.sh [apt-get install options] <package>...
#
# Tests run in parallel, and more than one may find its package missing on a fresh machine: two
# apt-get runs at once fail on dpkg's lock. The installs here take turns on a lock file of their
# own, and wait for dpkg's lock when something else (an unattended upgrade) holds it. The package
# lists are updated only when an install fails without them.
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
apt() { as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@" >&2; }
exec 9>"${TMPDIR:-/tmp}/netplane-tests-apt.lock"
flock 9
apt install -y -q "$@" || { apt update -q && apt install -y -q "$@"; }
