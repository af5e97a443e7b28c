package contract

import "net"

// monitorPort is the port the monitoring listener binds inside the container
// when RunArgs publishes it.
const monitorPort = "9321"

// ImageRef returns the sidecar image reference for a build version.
func ImageRef(version string) string { return ImageRepository + ":" + version }

// RunArgs is the `docker run` argument list (without "docker") that starts
// the sidecar on a host exactly as production runs it. network is the shared
// app network (DefaultNetwork); the sidecar must be on it to probe app
// containers by address and reach Traefik's API.
//
// monitorAddr is the host address the read-only monitoring listener is
// published on ("127.0.0.1:9321" by default); inside the container it binds
// all interfaces on port 9321 so the publish can reach it. An empty
// monitorAddr leaves the listener unpublished.
func RunArgs(version, network, monitorAddr string) []string {
	args := []string{
		"run", "-d",
		"--name", SidecarContainerName,
		"--restart", "unless-stopped",
		// The host's PID namespace: the drain reads Traefik's sockets in
		// /proc/<traefik pid>/net (the sidecar already holds docker.sock).
		"--pid", "host",
		"--label", "kamal.sidecar=" + version,
		"-v", "/var/run/docker.sock:/var/run/docker.sock",
		"-v", RunDir + ":" + RunDir,
		"-v", StateDir + ":" + StateDir,
		"--network", network,
	}
	inside := DefaultMonitorAddr
	if monitorAddr != "" {
		args = append(args, "-p", publishSpec(monitorAddr))
		inside = "0.0.0.0:" + monitorPort
	}
	return append(args, ImageRef(version), "--monitor-addr", inside)
}

// publishSpec turns a host address into docker's -p syntax mapping it to the
// in-container monitoring port.
func publishSpec(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr + ":" + monitorPort
	}
	if host == "" {
		return port + ":" + monitorPort
	}
	return net.JoinHostPort(host, port) + ":" + monitorPort
}
