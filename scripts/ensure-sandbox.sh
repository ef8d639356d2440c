#!/usr/bin/env bash
# Make the local backend's sandbox available (run as root on Debian): bubblewrap puts every
# program in its own namespaces with only its own directories mounted, slirp4netns gives the
# programs that ask for the network a NATed one without the host's loopback. Both are Debian
# packages; nothing is done when they are already installed. Also the archive tools `re-import` uses
# on the host (unzip, 7-Zip), so that local programs can import every format Resolwe accepts.
set -euo pipefail

log() { printf '[ensure-sandbox] %s\n' "$*" >&2; }

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v slirp4netns >/dev/null 2>&1 || missing+=(slirp4netns)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
command -v 7z >/dev/null 2>&1 || missing+=(p7zip-full)
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    log "WARNING: not root and ${missing[*]} missing: install them (apt-get install ${missing[*]}), or set"
    log "RESOLWE_PREFECT_SANDBOX=none to run trusted programs without isolation"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
log "installing ${missing[*]}"
# A fresh image usually has no package lists, and stale ones point at removed .debs: update
# then, but do not pay for an update when the cached lists still work.
if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 ||
    ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
