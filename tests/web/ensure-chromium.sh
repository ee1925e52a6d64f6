#!/bin/sh
# Installs Debian's Chromium for the browser tests when it is missing (Playwright drives the
# system browser; it never downloads one). Run before pytest: sh tests/web/ensure-chromium.sh
set -eu
CHROMIUM="${PALABRE_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "Installing Debian's chromium package for the browser tests..." >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
test -x "$CHROMIUM"
