#!/usr/bin/env bash
# Installs the docker buildx CLI plugin (BuildKit client) that `docker kamal
# build` drives. It is built from its Go module (the only registry reachable
# here), cached per machine, and copied into the CLI plugin directory.
# Cold: about 5 minutes on 2 cores; warm: instant.
set -euo pipefail

VERSION="${BUILDX_VERSION:-v0.38.2}"
CACHE_DIR="${KAMAL_E2E_CACHE:-/var/tmp/kamal-e2e}"
CACHED="$CACHE_DIR/buildx-$VERSION"
GO="${GO:-go}"

plugin_dir() {
	local sys=/usr/local/lib/docker/cli-plugins
	if mkdir -p "$sys" 2>/dev/null && [ -w "$sys" ]; then
		echo "$sys"
	else
		mkdir -p "$HOME/.docker/cli-plugins"
		echo "$HOME/.docker/cli-plugins"
	fi
}

if [ ! -x "$CACHED" ]; then
	mkdir -p "$CACHE_DIR"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	echo "building docker-buildx $VERSION from its Go module (a few minutes)..." >&2
	GOBIN="$tmp" CGO_ENABLED=0 "$GO" install -trimpath \
		-ldflags "-s -w -X github.com/docker/buildx/version.Version=$VERSION" \
		"github.com/docker/buildx/cmd/buildx@$VERSION"
	mv "$tmp/buildx" "$CACHED.part"
	mv "$CACHED.part" "$CACHED"
fi

dir=$(plugin_dir)
if ! cmp -s "$CACHED" "$dir/docker-buildx"; then
	install -m 0755 "$CACHED" "$dir/docker-buildx"
fi
docker buildx version >/dev/null
echo "docker-buildx $VERSION installed in $dir" >&2
