#!/bin/sh
# PID 1 of a harness host: fresh SSH host keys, sshd, and a dockerd that is
# restarted when it exits (so tests can restart dockerd without stopping the
# host). SIGTERM stops both and exits.
set -eu

# The root image has no host keys (build-rootfs.sh removes them): generate
# them on first start; they are kept across restarts, like a real server's.
ssh-keygen -A >/dev/null
mkdir -p /run/sshd /root/.ssh
chmod 700 /root/.ssh
if [ -n "${KAMAL_E2E_AUTHORIZED_KEY:-}" ]; then
	printf '%s\n' "$KAMAL_E2E_AUTHORIZED_KEY" >/root/.ssh/authorized_keys
	chmod 600 /root/.ssh/authorized_keys
fi
/usr/sbin/sshd -E /var/log/sshd.log

stopping=0
dockerd_pid=
shutdown() {
	stopping=1
	[ -n "$dockerd_pid" ] && kill -TERM "$dockerd_pid" 2>/dev/null || true
	[ -f /run/sshd.pid ] && kill -TERM "$(cat /run/sshd.pid)" 2>/dev/null || true
}
trap shutdown TERM INT

while [ "$stopping" = 0 ]; do
	rm -f /var/run/docker.pid
	dockerd --storage-driver=overlay2 --host=unix:///var/run/docker.sock \
		${KAMAL_E2E_DOCKERD_ARGS:-} >>/var/log/dockerd.log 2>&1 &
	dockerd_pid=$!
	wait "$dockerd_pid" || true
	# wait returns early when a trapped signal arrives; wait for the exit.
	while kill -0 "$dockerd_pid" 2>/dev/null; do wait "$dockerd_pid" || true; done
	dockerd_pid=
	[ "$stopping" = 0 ] && sleep 0.2
done
exit 0
