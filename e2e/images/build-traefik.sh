#!/usr/bin/env bash
# Builds the Traefik binary from its Go module and a FROM scratch image.
# Usage: build-traefik.sh IMAGE_TAG [EXTRA_TAG...]
# Env: KAMAL_E2E_CACHE (work dir, default /var/tmp/kamal-e2e), TRAEFIK_VERSION.
set -euo pipefail

version="${TRAEFIK_VERSION:-3.6.12}"
cache="${KAMAL_E2E_CACHE:-/var/tmp/kamal-e2e}"
tag="$1"; shift

mkdir -p "$cache"
src=
ctx=
cleanup() {
	[ -n "$src" ] && { chmod -R u+w "$src" 2>/dev/null; rm -rf "$src"; }
	[ -n "$ctx" ] && rm -rf "$ctx"
	return 0
}
trap cleanup EXIT
bin="$cache/traefik-$version"
if [ ! -x "$bin" ]; then
	json="$(cd "$cache" && go mod download -json "github.com/traefik/traefik/v3@v$version")"
	dir="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
	[ -d "$dir" ] || { echo "build-traefik: module dir not found in: $json" >&2; exit 1; }
	src="$(mktemp -d "$cache/traefik-src.XXXXXX")"
	cp -r "$dir/." "$src/"
	chmod -R u+w "$src"
	(cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" \
		-ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$version" ./cmd/traefik)
	mv "$bin.tmp" "$bin"
fi

ctx="$(mktemp -d)"
cp "$bin" "$ctx/traefik"
mkdir -p "$ctx/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/etc/ssl/certs/ca-certificates.crt"
cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY etc /etc
COPY traefik /traefik
EXPOSE 80
ENTRYPOINT ["/traefik"]
CMD ["--global.checkNewVersion=false", "--global.sendAnonymousUsage=false"]
DOCKERFILE
args=(-t "$tag")
for t in "$@"; do args+=(-t "$t"); done
docker build --label kamal-e2e-image=traefik "${args[@]}" "$ctx"
