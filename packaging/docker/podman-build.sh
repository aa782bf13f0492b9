#!/usr/bin/env bash
# Builds the aclkd image with podman where no Docker engine or registry exists
# (docs/dependencies.md §7): a Debian 12 root filesystem from debootstrap is imported as
# docker.io/library/debian:12, then packaging/docker/Dockerfile is built with vfs storage, runc and
# lowered ulimits.
#   packaging/docker/podman-build.sh [TAG]        (root; installs podman, buildah, runc, debootstrap)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TAG="${1:-localhost/aclkd:dev}"
WORK="${ACLKD_PODMAN_WORK:-/var/tmp/aclkd-podman}"
MIRROR="${ACLKD_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

need=()
for p in podman buildah runc debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$WORK"
cat > "$WORK/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$WORK/storage"
runroot = "$WORK/run"
CONF
export CONTAINERS_STORAGE_CONF="$WORK/storage.conf"
P=(podman --cgroup-manager=cgroupfs --events-backend=file --runtime runc)

if ! "${P[@]}" image exists docker.io/library/debian:12; then
  rm -rf "$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log"
  tar -C "$WORK/rootfs" -c . | "${P[@]}" import - docker.io/library/debian:12 >/dev/null
fi
"${P[@]}" build --network=host --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
  -f "$ROOT/packaging/docker/Dockerfile" -t "$TAG" "$ROOT"
echo "built $TAG (storage $WORK)"
