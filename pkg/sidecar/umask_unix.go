//go:build unix

package sidecar

import "syscall"

// umask sets the process umask and returns the old one, so the socket is
// never briefly reachable with wider permissions.
func umask(m int) int { return syscall.Umask(m) }
