#!/usr/bin/env bash
# Podman, a local debootstrap base image and the team kernel images, on a bare machine.
# Idempotent: packages, the base image and unchanged team images are built once, then reused.
#   scripts/setup-podman.sh            # packages + base image + every team image (channel beta and ga)
#   NBR_SKIP_TEAMS=1 scripts/setup-podman.sh   # packages + base image only
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/images/containers.conf}
BASE=${NBR_BASE_IMAGE:-localhost/debian-base:bookworm}

need=()
for cmd in podman runc debootstrap catatonit; do command -v "$cmd" >/dev/null || need+=("$cmd"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    podman runc debootstrap catatonit conmon slirp4netns fuse-overlayfs containernetworking-plugins uidmap iptables >/dev/null
fi

if ! podman image exists "$BASE"; then
  echo "building the base image $BASE with debootstrap"
  root=$(mktemp -d /var/tmp/nbr-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" >/dev/null
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
fi

if [ -z "${NBR_SKIP_TEAMS:-}" ]; then
  BASE_IMAGE=$BASE images/build.sh
fi
