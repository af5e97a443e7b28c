#!/usr/bin/env bash
# Builds the distribution registry binary from its Go module and a FROM
# scratch image that serves HTTP on :5000 with htpasswd auth.
# Usage: build-registry.sh IMAGE_TAG [EXTRA_TAG...]
# Env: KAMAL_E2E_CACHE (work dir, default /var/tmp/kamal-e2e), REGISTRY_VERSION.
set -euo pipefail

version="${REGISTRY_VERSION:-3.1.2}"
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
bin="$cache/registry-$version"
if [ ! -x "$bin" ]; then
	json="$(cd "$cache" && go mod download -json "github.com/distribution/distribution/v3@v$version")"
	dir="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
	[ -d "$dir" ] || { echo "build-registry: module dir not found in: $json" >&2; exit 1; }
	src="$(mktemp -d "$cache/registry-src.XXXXXX")"
	cp -r "$dir/." "$src/"
	chmod -R u+w "$src"
	(cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" \
		-ldflags "-s -w -X github.com/distribution/distribution/v3/version.version=v$version" ./cmd/registry)
	mv "$bin.tmp" "$bin"
fi

ctx="$(mktemp -d)"
cp "$bin" "$ctx/registry"
mkdir -p "$ctx/etc/distribution" "$ctx/var/lib/registry" "$ctx/auth"
# The harness copies /auth/htpasswd into the container before it starts.
cat > "$ctx/etc/distribution/config.yml" <<'CONFIG'
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
auth:
  htpasswd:
    realm: kamal-e2e
    path: /auth/htpasswd
CONFIG
cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY etc /etc
COPY var /var
COPY auth /auth
COPY registry /registry
EXPOSE 5000
ENTRYPOINT ["/registry"]
CMD ["serve", "/etc/distribution/config.yml"]
DOCKERFILE
args=(-t "$tag")
for t in "$@"; do args+=(-t "$t"); done
docker build --label kamal-e2e-image=registry "${args[@]}" "$ctx"
