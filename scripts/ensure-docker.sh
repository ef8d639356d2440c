#!/usr/bin/env bash
# Make Docker usable for the container tests on a fresh CI machine (run as root): install the
# daemon and debootstrap, start dockerd when it is not answering, and build the local base image
# when it is missing. Safe to run repeatedly; every step is skipped when already done.
#
# Environment:
#   DOCKERD_FLAGS           extra dockerd flags; replaces the storage-driver/iptables probing below
#   DOCKER_START_TIMEOUT    seconds to wait for dockerd (default 60)
#   REBUILD_BASE_IMAGE=1    re-import resolwe-prefect/base even if it exists (add REBUILD=1 to
#                           also debootstrap again instead of using the cached tarball)
#   RESOLWE_IMAGE_ALIASES   images of Resolwe's to stand in for with the base image where absent
#                           (default: Resolwe's public base images; empty: none), see below
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BASE_IMAGE="resolwe-prefect/base:bookworm-py"
LOG=/var/log/dockerd-ci.log
DATA_ROOT=/var/lib/docker
TIMEOUT="${DOCKER_START_TIMEOUT:-60}"

log() { printf '[ensure-docker] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Resolwe's Python processes run in Resolwe's public base images: one that names no image gets
# .../base:ubuntu-18.04 when it is registered, as in Resolwe, and Resolwe's own processes name
# ubuntu-20.04, its dated tag ubuntu-20.04-03022021 (the toolkit's upload-file) and ubuntu-22.04;
# resolwe-bio's pure-Python processes run in its images resolwebio/base (gene sets), resolwebio/common
# (BEDPE and IDAT uploads) and resolwebio/dnaseq (VEP cache upload), though they use only Python's
# standard library. CI machines reach no image registry, so where such an image is absent the local base
# image (bash and python3, all these processes need of it) is tagged under its name. A pulled image
# is never replaced; a stand-in made from an older base image (a docker import of ours) is renewed.
RESOLWE_BASE=public.ecr.aws/s4q6j6e8/resolwe/base
RESOLWE_IMAGE_ALIASES="${RESOLWE_IMAGE_ALIASES-$RESOLWE_BASE:ubuntu-18.04 $RESOLWE_BASE:ubuntu-20.04 $RESOLWE_BASE:ubuntu-20.04-03022021 $RESOLWE_BASE:ubuntu-22.04 public.ecr.aws/genialis/resolwebio/base:ubuntu-22.04-14112023 public.ecr.aws/genialis/resolwebio/common:4.1.1 public.ecr.aws/genialis/resolwebio/dnaseq:6.3.1}"
alias_resolwe_images() {
    local image current base
    base=$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE" 2>/dev/null) || return 0
    for image in $RESOLWE_IMAGE_ALIASES; do
        current=$(docker image inspect --format '{{.Id}} {{.Comment}}' "$image" 2>/dev/null || true)
        case "$current" in
            "") ;;                         # absent: stand in for it
            "$base "*) continue ;;         # already our current base image
            *" debootstrap "*) ;;          # a stand-in made from an older base image of ours
            *) continue ;;                 # a real image (pulled or built): never touched
        esac
        docker tag "$BASE_IMAGE" "$image" && log "$image: stands in as $BASE_IMAGE (no registry here)"
    done
}

# Not Docker, but a system package the suite needs too: the re-* utilities are also tested under
# busybox sh (tests/runtime/test_scripts.py), the smallest shell a process image may have.
if ! command -v busybox >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "installing busybox"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends busybox >/dev/null 2>&1 ||
        { apt-get update -q && apt-get install -y -q --no-install-recommends busybox; } ||
        log "WARNING: could not install busybox: its two runtime tests will be skipped"
fi

# Debian's docker-registry: tests/execution/test_docker_images.py pulls from a registry of its own
# (no public registry is reachable here). Only the binary is used; its service is not started.
if ! command -v docker-registry >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "installing docker-registry"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends docker-registry >/dev/null 2>&1 ||
        { apt-get update -q && apt-get install -y -q --no-install-recommends docker-registry; } ||
        log "WARNING: could not install docker-registry: the image pull tests will be skipped"
fi

# Already usable (e.g. a developer's own Docker): nothing to do.
if docker info >/dev/null 2>&1 && docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    alias_resolwe_images
    exit 0
fi
# Without root we can neither install nor start dockerd: the Docker tests then skip, saying why.
if [ "$(id -u)" != 0 ]; then
    log "WARNING: not root and no usable Docker with $BASE_IMAGE: the Docker backend tests will be skipped"
    exit 0
fi

# --- packages -------------------------------------------------------------------------------
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
    # Deduplicate (docker and dockerd both come from docker.io).
    read -r -a missing <<<"$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
    export DEBIAN_FRONTEND=noninteractive
    log "installing ${missing[*]}"
    # A fresh image usually has no package lists, and stale ones point at removed .debs: update
    # then, but do not pay for an update when the cached lists still work.
    if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 ||
        ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
        apt-get update -q
        apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
fi

# --- daemon ---------------------------------------------------------------------------------
# overlay2 needs a kernel with overlayfs and a backing filesystem that supports it as upper dir
# (not overlayfs itself, as in nested containers). Try a real mount where the layers will live
# rather than trusting /proc/filesystems; fall back to vfs (full copies, slow but always works).
overlay_works() {
    local probe rc=1
    mkdir -p "$DATA_ROOT"
    probe=$(mktemp -d "$DATA_ROOT/.overlay-probe.XXXXXX")
    mkdir -p "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
    if mount -t overlay overlay \
        -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
        umount "$probe/merged"
        rc=0
    fi
    rm -rf "$probe"
    return "$rc"
}

# The default bridge network needs NAT rules; in some sandboxes iptables (nft or legacy) cannot
# touch the kernel. Without iptables Docker still creates docker0 and bridge containers start;
# they only lack outbound NAT, which process containers (network disabled) do not need.
iptables_works() {
    command -v iptables >/dev/null 2>&1 && iptables -t nat -L -n >/dev/null 2>&1
}

dockerd_flags() {
    if [ -n "${DOCKERD_FLAGS:-}" ]; then
        echo "$DOCKERD_FLAGS"
        return
    fi
    local flags=()
    # Keep whatever driver an existing data root already uses: switching drivers hides every
    # image and container stored under the other one.
    if [ -d "$DATA_ROOT/vfs/dir" ] && [ ! -d "$DATA_ROOT/overlay2" ]; then
        flags+=(--storage-driver=vfs)
    elif ! overlay_works; then
        log "overlayfs mount failed here; using --storage-driver=vfs"
        flags+=(--storage-driver=vfs)
    fi
    if ! iptables_works; then
        log "iptables cannot manage the nat table here; using --iptables=false"
        flags+=(--iptables=false --ip-masq=false)
    fi
    echo "${flags[*]:-}"
}

dockerd_pid() {
    local pid
    pid=$(cat /var/run/docker.pid 2>/dev/null) || return 1
    # A stale pid file can name an unrelated process after a reboot or crash.
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] && echo "$pid"
}

if docker info >/dev/null 2>&1; then
    log "dockerd is already running"
else
    if pid=$(dockerd_pid); then
        # A daemon started by an earlier (perhaps concurrent) run that is still initialising:
        # a second one would fail on the pid file, so just wait for it.
        log "dockerd (pid $pid) is starting; waiting for it"
    else
        read -r -a flags <<<"$(dockerd_flags)"
        log "starting dockerd${flags[*]:+ ${flags[*]}} (log: $LOG)"
        # No systemd here, so run it directly. setsid detaches it from this script's process
        # group and terminal, so it outlives the CI step that ran this script.
        setsid dockerd "${flags[@]}" </dev/null >>"$LOG" 2>&1 &
        pid=$!
    fi
    deadline=$((SECONDS + TIMEOUT))
    until docker info >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$LOG" >&2 || true
            die "dockerd exited during start-up; see $LOG"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            tail -n 30 "$LOG" >&2 || true
            die "dockerd did not answer 'docker info' within ${TIMEOUT}s; see $LOG"
        fi
        sleep 1
    done
    log "dockerd is up: $(docker info --format 'storage driver {{.Driver}}, cgroup v{{.CgroupVersion}} ({{.CgroupDriver}})')"
fi

# --- base image -----------------------------------------------------------------------------
if [ "${REBUILD_BASE_IMAGE:-0}" != 1 ] && docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "$BASE_IMAGE exists"
else
    "$ROOT/deployments/images/build-base-image.sh"
fi
alias_resolwe_images
