// Package buildinfo holds the version stamped into both binaries at build
// time, so the plugin can tell whether a host's sidecar is outdated.
package buildinfo

// Version is set with -ldflags "-X github.com/dockerkamal/docker-kamal/pkg/buildinfo.Version=...".
var Version = "0.1.0-dev"

// URL is the project home shown in plugin metadata and help.
const URL = "https://github.com/dockerkamal/docker-kamal"
