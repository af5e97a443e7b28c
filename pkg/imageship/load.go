package imageship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// load sends the archive without its first skip layers into `docker load`.
//
// The payload reaches the SSH channel in writes of writeBuffer bytes: as one
// small SSH packet per deflate output (a few KB), 4.3 MB trickled to a fresh
// host at about 130 KB/s (17 s, against 1.6 s in large writes; measured on
// the harness against OpenSSH sshd).
func (s *Shipper) load(ctx context.Context, host string, r Remote, li *localImage, skip int, res *Result) error {
	path, err := s.payloadFor(li, skip)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open image payload: %w", err)
	}
	defer func() { _ = f.Close() }() // read only: the copy's error is the one that matters

	pr, pw := io.Pipe()
	counter := &countingWriter{w: pw, host: host, progress: s.opts.Progress, base: res.Bytes}
	writeErr := make(chan error, 1)
	go func() {
		_, err := io.CopyBuffer(counter, f, make([]byte, writeBuffer))
		if err != nil {
			err = fmt.Errorf("read image payload: %w", err)
		}
		_ = pw.CloseWithError(err) // never fails
		writeErr <- err
	}()

	var stderr tailWriter
	runErr := r.Run(ctx, s.opts.RemoteDocker+" load", pr, io.Discard, &stderr)
	_ = pr.CloseWithError(errors.New("remote docker load ended")) // never fails
	werr := <-writeErr
	res.Bytes = counter.total()
	counter.report(true)
	switch {
	case runErr != nil:
		return newLoadError(runErr, stderr.String(), skip)
	case werr != nil:
		return werr
	}
	return nil
}

// ErrLayerMissing is matched (errors.Is) by a LoadError when `docker load`
// needed the file of a layer that was left out of the archive: the host lost
// the layer between listing its images and the load (pruned meanwhile). Ship
// then sends the whole archive.
var ErrLayerMissing = errors.New("layer missing on host")

// LoadError is a failed `docker load` on the host with its stderr. It matches
// ErrLayerMissing when the load failed for want of a layer left out.
type LoadError struct {
	Err    error
	Stderr string

	layerMissing bool
}

// newLoadError records a load of the archive without its first skip layers
// that failed with runErr. Docker says that a layer file was missing only in
// its output, so this is where that output is read.
func newLoadError(runErr error, stderr string, skip int) *LoadError {
	e := &LoadError{Err: runErr, Stderr: stderr}
	if skip == 0 {
		return e // nothing was left out
	}
	e.layerMissing = saysLayerMissing(stderr)
	var exit *transport.ExitError
	if errors.As(runErr, &exit) && saysLayerMissing(exit.Stderr) {
		e.layerMissing = true
	}
	return e
}

// saysLayerMissing reports whether `docker load` output says a layer was
// missing: the archive lacked the layer's file, or the layer store lacked the
// layer.
func saysLayerMissing(out string) bool {
	return strings.Contains(out, "no such file or directory") || strings.Contains(out, "layer does not exist")
}

func (e *LoadError) Error() string {
	msg := "docker load on host: " + e.Err.Error()
	// Some Remotes put stderr in their error already.
	if s := strings.TrimSpace(e.Stderr); s != "" && !strings.Contains(msg, s) {
		msg += ": " + s
	}
	return msg
}

func (e *LoadError) Unwrap() error { return e.Err }

// Is matches ErrLayerMissing when the load failed for want of a layer left out.
func (e *LoadError) Is(target error) bool { return target == ErrLayerMissing && e.layerMissing }
