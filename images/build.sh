#!/usr/bin/env bash
# Build one kernel image per team (images/teams/<team>) and tag it with each channel.
#   BASE_IMAGE  base of both stages (default: the public slim Python image)
#   TEAMS       teams to build (default: every folder of images/teams)
#   CHANNELS    tags to give the build (default: "beta ga"; promote by re-tagging beta as ga)
#   REPOSITORY  image repository (default: localhost/nbreports-kernel, as in config/profiles.yaml)
# Unchanged teams rebuild from podman's layer cache in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/images/containers.conf}
BASE_IMAGE=${BASE_IMAGE:-docker.io/library/python:3.11-slim-bookworm}
REPOSITORY=${REPOSITORY:-localhost/nbreports-kernel}
CHANNELS=${CHANNELS:-beta ga}
TEAMS=${TEAMS:-$(ls images/teams)}

ctx=$(mktemp -d /var/tmp/nbr-image-ctx.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
# a small build context: never the venv, the store or the notebooks
mkdir -p "$ctx/images"
cp -r images/teams images/core-requirements.txt "$ctx/images/"
cp pyproject.toml "$ctx/"
cp images/constraints.txt "$ctx/images/"
tar -c --exclude=__pycache__ nbreports | tar -x -C "$ctx"

for team in $TEAMS; do
  first=${CHANNELS%% *}
  echo "building $REPOSITORY/$team:$first from $BASE_IMAGE"
  podman build -q --network host --layers \
    -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
    --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg TEAM="$team" \
    -f images/Containerfile -t "$REPOSITORY/$team:$first" "$ctx" >/dev/null
  for channel in $CHANNELS; do
    [ "$channel" = "$first" ] || podman tag "$REPOSITORY/$team:$first" "$REPOSITORY/$team:$channel"
  done
done
