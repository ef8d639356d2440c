#!/usr/bin/env bash
# Build the local base image for Resolwe process containers, resolwe-prefect/base:bookworm-py
# (also tagged :latest), without any image registry.
#
# CI machines can reach a Debian apt mirror but no image registry, so `docker pull` is not an
# option: the root filesystem is made with debootstrap from the apt mirror and `docker import`ed.
#
# Environment:
#   DEBIAN_MIRROR                 mirror to debootstrap from (default: the one apt is configured with)
#   DEBIAN_SUITE                  suite to build (default: bookworm)
#   BASE_IMAGE_PACKAGES           comma-separated extra packages (default: what Resolwe test programs use)
#   BASE_IMAGE_VARIANT            tag suffix naming the package set (default: py, the image has python3)
#   RESOLWE_PREFECT_IMAGE_CACHE   directory holding base-<suite>.tar (default: /var/cache/resolwe-prefect)
#   REBUILD=1                     ignore the cached tarball and debootstrap again
set -euo pipefail

SUITE="${DEBIAN_SUITE:-bookworm}"
IMAGE="resolwe-prefect/base"
# The tag says what the image holds besides the suite ("py": python3, for Python processes, whose
# runtime is mounted in from our side). A new package set needs a new variant: machines build the
# image only when its tag is missing (scripts/ensure-docker.sh), and the cached root filesystem
# is kept per variant, so an old one is never imported under the new tag.
VARIANT="${BASE_IMAGE_VARIANT:-py}"
TAG="${IMAGE}:${SUITE}-${VARIANT}"
CACHE_DIR="${RESOLWE_PREFECT_IMAGE_CACHE:-/var/cache/resolwe-prefect}"
CACHE_TAR="${CACHE_DIR}/base-${SUITE}-${VARIANT}.tar"
# Essential packages (bash, coreutils, grep, ...) come with minbase anyway; they are listed so the
# list documents what the process scripts rely on. python3 runs Resolwe's Python processes (the
# runtime and plumbum are pure Python and mounted at /opt/resolwe/python; only the standard library
# is needed from the image).
PACKAGES="${BASE_IMAGE_PACKAGES:-bash,coreutils,gzip,tar,curl,ca-certificates,procps,iputils-ping,unzip,bzip2,xz-utils,libc-bin,findutils,grep,sed,gawk,python3}"
# A non-root user for running the image by hand; programs run as their run's own uid, named
# through the passwd and group files the Docker backend mounts.
USER_NAME=resolwe
USER_ID=1000

log() { printf '[build-base-image] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Bash's SECONDS is integer-only; sub-second precision matters for the import step.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

# Print the first mirror URI that apt uses for "$SUITE", from deb822 *.sources files and
# one-line *.list files; disabled or non-.list/.sources files are ignored just as apt ignores them.
detect_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$SUITE" '
            BEGIN { RS = "" }
            {
                uris = ""; suites = ""; types = ""; enabled = "yes"
                n = split($0, lines, "\n")
                for (i = 1; i <= n; i++) {
                    line = lines[i]
                    if (line ~ /^[ \t]*#/) continue
                    key = tolower(line); sub(/:.*/, "", key)
                    val = line; sub(/^[^:]*:[ \t]*/, "", val)
                    if (key == "uris") uris = val
                    else if (key == "suites") suites = val
                    else if (key == "types") types = val
                    else if (key == "enabled") enabled = tolower(val)
                }
                if (enabled == "no" || (" " types " ") !~ / deb /) next
                m = split(suites, s, /[ \t]+/)
                for (j = 1; j <= m; j++) if (s[j] == suite) { split(uris, u, /[ \t]+/); print u[1]; exit }
            }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # "deb [opts] URI suite components..."; the [opts] block is dropped before splitting.
        sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2 }'
    done
}

MIRROR="${DEBIAN_MIRROR:-$(detect_mirror | head -n 1)}"
if [ -z "$MIRROR" ]; then
    die "no apt source for $SUITE on this machine: set DEBIAN_MIRROR to the Debian mirror to debootstrap from"
fi

import_tar() {
    local started previous
    started=$(now)
    previous=$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)
    # An imported image has no config at all: give it a shell as default command and a UTF-8
    # locale that exists without the locales package (C.UTF-8 ships with libc-bin).
    docker import \
        --change 'CMD ["/bin/bash"]' \
        --change 'ENV LANG=C.UTF-8' \
        --message "debootstrap --variant=minbase ${SUITE} from ${MIRROR}" \
        "$1" "$TAG" >/dev/null
    docker tag "$TAG" "${IMAGE}:latest"
    # Each import makes a new image ID; drop the one it replaced so rebuilds do not pile up
    # untagged 100 MB images. Fails harmlessly if a stopped container still uses it.
    if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' "$TAG")" ]; then
        docker image rm "$previous" >/dev/null 2>&1 || true
    fi
    log "import: $(elapsed "$started") ($TAG, ${IMAGE}:latest)"
}

if [ -f "$CACHE_TAR" ] && [ "${REBUILD:-0}" != 1 ]; then
    log "using cached root filesystem $CACHE_TAR (REBUILD=1 to debootstrap again)"
    import_tar "$CACHE_TAR"
    docker image ls "$IMAGE"
    exit 0
fi

for tool in debootstrap docker tar; do
    command -v "$tool" >/dev/null 2>&1 || { log "$tool is required (scripts/ensure-docker.sh installs it)"; exit 1; }
done

# /var/tmp rather than /tmp: /tmp is often a small or noexec tmpfs, and the chroot has to
# execute maintainer scripts.
WORKDIR=$(mktemp -d /var/tmp/resolwe-base-image.XXXXXX)
ROOTFS="$WORKDIR/rootfs"
cleanup() {
    # debootstrap mounts /proc and /sys inside the target; if it is interrupted they stay
    # mounted and rm -rf would descend into the host's /proc and /sys.
    local mnt
    if [ -d "$ROOTFS" ]; then
        awk -v root="$ROOTFS" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r |
            while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
    fi
    rm -rf --one-file-system "$WORKDIR"
}
trap cleanup EXIT

keyring_args=()
if [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
    keyring_args=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
fi

log "debootstrap $SUITE from $MIRROR"
started=$(now)
if ! debootstrap --variant=minbase "${keyring_args[@]}" --include="$PACKAGES" \
        "$SUITE" "$ROOTFS" "$MIRROR" >"$WORKDIR/debootstrap.log" 2>&1; then
    tail -n 40 "$WORKDIR/debootstrap.log" >&2
    [ -f "$ROOTFS/debootstrap/debootstrap.log" ] && tail -n 40 "$ROOTFS/debootstrap/debootstrap.log" >&2
    log "debootstrap failed"
    exit 1
fi
log "debootstrap: $(elapsed "$started")"

started=$(now)
# Written directly rather than with useradd in a chroot: the passwd package is not part of
# minbase, and this needs no /proc inside the target.
if ! grep -q "^[^:]*:[^:]*:${USER_ID}:" "$ROOTFS/etc/group"; then
    echo "${USER_NAME}:x:${USER_ID}:" >>"$ROOTFS/etc/group"
    [ -f "$ROOTFS/etc/gshadow" ] && echo "${USER_NAME}:!::" >>"$ROOTFS/etc/gshadow"
fi
if ! grep -q "^[^:]*:[^:]*:${USER_ID}:" "$ROOTFS/etc/passwd"; then
    echo "${USER_NAME}:x:${USER_ID}:${USER_ID}:Resolwe process runner:/home/${USER_NAME}:/bin/bash" >>"$ROOTFS/etc/passwd"
    [ -f "$ROOTFS/etc/shadow" ] && echo "${USER_NAME}:*:19000:0:99999:7:::" >>"$ROOTFS/etc/shadow"
fi
install -d -m 0755 -o "$USER_ID" -g "$USER_ID" "$ROOTFS/home/$USER_NAME"

# Downloaded .debs and package lists are dead weight in the image (nothing runs apt in a
# process container); debootstrap's own work directory and logs are host build artefacts.
# resolv.conf/hostname/hosts are copied from the build host but Docker bind-mounts its own.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin \
    "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/debootstrap "$ROOTFS"/var/log/*.log \
    "$ROOTFS"/var/log/apt/* "$ROOTFS"/tmp/* "$ROOTFS"/var/tmp/*
# Documentation and message translations are ~55 MB of a ~150 MB rootfs and no process reads
# them. Same trimming as Debian's -slim images, including the dpkg excludes, so packages
# installed later in derived images stay trimmed; copyright files are kept for licensing.
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
find "$ROOTFS/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$ROOTFS/usr/share/doc" -mindepth 1 -depth -type d -empty -delete
rm -rf "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/* \
    "$ROOTFS"/usr/share/lintian/*
: >"$ROOTFS/etc/resolv.conf"
echo localhost >"$ROOTFS/etc/hostname"
log "customise rootfs: $(elapsed "$started")"

started=$(now)
mkdir -p "$CACHE_DIR"
# --xattrs keeps the file capability iputils-ping is installed with (cap_net_raw), so ping
# works for the non-root user; docker import honours it. Written to a temporary name first
# so an interrupted build never leaves a truncated cache that later runs would trust.
tar --numeric-owner --xattrs --xattrs-include='security.capability' \
    -C "$ROOTFS" -cf "$CACHE_TAR.tmp" .
mv -f "$CACHE_TAR.tmp" "$CACHE_TAR"
log "tar rootfs to $CACHE_TAR: $(elapsed "$started") ($(du -h "$CACHE_TAR" | cut -f1))"

import_tar "$CACHE_TAR"
docker image ls "$IMAGE"
