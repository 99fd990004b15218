#!/usr/bin/env bash
# Makes sure Debian's Chromium and its WebDriver are installed, for the console's browser test;
# prints the two paths (browser, driver) on one line.
#
# Installs the `chromium` and `chromium-driver` packages when either is missing
# (`tests/debian/install.sh`).
set -euo pipefail
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "installing Debian's chromium and chromium-driver packages" >&2
  bash "$(dirname "$0")/../debian/install.sh" chromium chromium-driver
fi
browser=$(command -v chromium) && driver=$(command -v chromedriver) \
  || { echo "chromium or chromedriver is still missing after the install" >&2; exit 1; }
echo "$browser $driver"
