#!/bin/bash
# Like the official redis image: arguments starting with '-' or ending in
# .conf go to redis-server, which runs as the redis user with data in /data,
# listening on all addresses without protected mode.
set -euo pipefail

if [ "${1:0:1}" = '-' ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi
if [ "$1" = redis-server ]; then
	shift
	chown -R redis:redis /data 2>/dev/null || true
	exec setpriv --reuid=redis --regid=redis --init-groups -- \
		redis-server --bind 0.0.0.0 --protected-mode no --dir /data "$@"
fi
exec "$@"
