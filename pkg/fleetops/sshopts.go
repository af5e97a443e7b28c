package fleetops

// The ssh settings of deploy.yml that are not plain values: key_data (from
// secrets) and log_level (a Ruby Logger level, mapped onto slog).

import (
	"io"
	"log/slog"
)

// keyData is ssh.key_data as the transport takes it.
func keyData(keys []string) [][]byte {
	var out [][]byte
	for _, k := range keys {
		out = append(out, []byte(k))
	}
	return out
}

// sshLogger logs the SSH connections to w at ssh.log_level; nil (nothing)
// for Kamal's default, fatal, and above: we emit nothing that fatal.
func sshLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	switch level {
	case "debug":
		l = slog.LevelDebug
	case "info":
		l = slog.LevelInfo
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		return nil
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})).With("component", "ssh")
}
