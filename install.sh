#!/usr/bin/env bash
# Install docker-kamal as a Docker CLI plugin.
#   ./install.sh                 build from this checkout, install for this user
#   ./install.sh --binary PATH   install a given plugin binary instead of building
#                                (its kamal-sidecar is taken from the same directory)
#   ./install.sh --system        install into /usr/local/lib/docker/cli-plugins
#   ./install.sh --uninstall     remove it (combine with --system for the system copy)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
binary=""
uninstall=0

while [ $# -gt 0 ]; do
  case "$1" in
    --system) dest="/usr/local/lib/docker/cli-plugins" ;;
    --uninstall) uninstall=1 ;;
    --binary) shift; binary="${1:?--binary needs a path}" ;;
    --binary=*) binary="${1#--binary=}" ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

target="$dest/docker-kamal"
# The sidecar binary sits beside the plugin: `docker kamal setup` builds the
# sidecar image from it and ships it to hosts, so hosts need no registry.
# The Docker CLI only runs files named docker-*, so it ignores this one.
sidecar_target="$dest/kamal-sidecar"
if [ "$uninstall" = 1 ]; then
  rm -f "$target" "$sidecar_target"
  echo "removed $target and $sidecar_target"
  exit 0
fi

if ! command -v docker >/dev/null 2>&1; then
  echo "install.sh: docker is not installed; docker kamal is a Docker CLI plugin and needs the docker CLI (Debian: apt-get install docker.io)" >&2
  exit 1
fi

if [ -z "$binary" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "install.sh: go is not installed; install Go 1.26+ (https://go.dev/dl) or pass --binary PATH" >&2
    exit 1
  fi
  version="$(git -C "$here" describe --always --dirty 2>/dev/null || echo dev)"
  mkdir -p "$here/bin"
  for pair in docker-kamal:./plugin kamal-sidecar:./sidecar; do
    (cd "$here" && CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/dockerkamal/docker-kamal/pkg/buildinfo.Version=$version" \
      -o "bin/${pair%%:*}" "${pair#*:}")
  done
  binary="$here/bin/docker-kamal"
fi
[ -x "$binary" ] || { echo "install.sh: $binary is not an executable" >&2; exit 1; }
sidecar="$(dirname "$binary")/kamal-sidecar"
[ -x "$sidecar" ] || { echo "install.sh: $sidecar is missing; build it with 'make build'" >&2; exit 1; }

mkdir -p "$dest"
# Copy then rename so a running `docker kamal` never sees a half-written file.
for pair in "$binary:$target" "$sidecar:$sidecar_target"; do
  src="${pair%%:*}" dst="${pair#*:}"
  cp "$src" "$dst.tmp.$$"
  chmod 0755 "$dst.tmp.$$"
  mv -f "$dst.tmp.$$" "$dst"
done
echo "installed $target ($("$target" docker-cli-plugin-metadata | sed -n 's/.*"Version": "\(.*\)".*/\1/p'))"
