#!/usr/bin/env bash
# Make a headless browser usable for the Prefect UI end-to-end test (tests/e2e/test_prefect_ui.py)
# on a fresh CI machine (run as root): install Debian's chromium and its matching chromedriver.
# Selenium is pointed at /usr/bin/chromedriver explicitly, so Selenium Manager never tries to
# download a browser or driver (CI has no general internet access). Safe to run repeatedly:
# nothing is done when both binaries are already there.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver

log() { printf '[ensure-browser] %s\n' "$*" >&2; }

# Already installed: nothing to do.
if [ -x "$CHROMIUM" ] && [ -x "$CHROMEDRIVER" ]; then
    exit 0
fi
# Without root we cannot install packages: the browser test then skips, saying why.
if [ "$(id -u)" != 0 ]; then
    log "WARNING: not root and $CHROMIUM or $CHROMEDRIVER is missing: the Prefect UI browser test will be skipped"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
log "installing chromium and chromium-driver"
# A fresh image usually has no package lists, and stale ones point at removed .debs: update
# then, but do not pay for an update when the cached lists still work.
if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 ||
    ! apt-get install -y -q --no-install-recommends chromium chromium-driver; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends chromium chromium-driver
fi
log "installed: $("$CHROMIUM" --version 2>/dev/null || echo chromium), $("$CHROMEDRIVER" --version 2>/dev/null | head -n 1 || echo chromedriver)"
