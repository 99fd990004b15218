#!/usr/bin/env bash
# Makes sure Debian's Chromium and its WebDriver are installed, for the console's browser test;
# prints the two paths (browser, driver) on one line.
#
# Installs the `chromium` and `chromium-driver` packages when either is missing (as root, or
# through sudo).
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "installing Debian's chromium and chromium-driver packages" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >&2 \
    || { as_root apt-get update -q >&2 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >&2; }
fi
echo "$(command -v chromium) $(command -v chromedriver)"
