#!/usr/bin/env bash
# Builds a Debian minbase root with debootstrap and imports it as a Docker
# image. Usage: build-rootfs.sh [-s SUITE] IMAGE_TAG [PACKAGE,PACKAGE,...] [REMOVE_GLOB...]
# SUITE is the Debian release (default bookworm; bookworm's debootstrap also
# knows trixie). Env: KAMAL_E2E_CACHE (work dir, default /var/tmp/kamal-e2e),
#      KAMAL_E2E_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

suite=bookworm
if [ "${1:-}" = -s ]; then
	suite="$2"
	shift 2
fi
tag="$1"
include="${2:-}"
shift $(( $# < 2 ? $# : 2 ))
cache="${KAMAL_E2E_CACHE:-/var/tmp/kamal-e2e}"
mirror="${KAMAL_E2E_MIRROR:-http://deb.debian.org/debian}"

if ! command -v debootstrap >/dev/null 2>&1; then
	echo "build-rootfs: installing debootstrap" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >&2 ||
		{ apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >&2; }
fi

mkdir -p "$cache/debs"
root="$(mktemp -d "$cache/rootfs.XXXXXX")"
trap 'rm -rf "$root" "$root.log"' EXIT

args=(--variant=minbase --cache-dir="$cache/debs")
[ -n "$include" ] && args+=(--include="$include")
debootstrap "${args[@]}" "$suite" "$root" "$mirror" >"$root.log" 2>&1 ||
	{ tail -50 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"

# Slim the root: package lists, docs and caches are not needed at run time.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
	"$root"/var/cache/apt/archives/*.deb "$root"/usr/share/locale/* \
	"$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
for glob in "$@"; do
	# shellcheck disable=SC2086 # the glob is meant to expand
	rm -rf "$root"/$glob
done
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
SOURCES
# Containers get their own resolv.conf and hostname from Docker.
: >"$root/etc/resolv.conf"
: >"$root/etc/hostname"

tar --numeric-owner --xattrs -C "$root" -c . |
	docker import --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
echo "$tag"
