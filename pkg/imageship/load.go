package imageship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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
	defer f.Close()

	pr, pw := io.Pipe()
	counter := &countingWriter{w: pw, host: host, progress: s.opts.Progress, base: res.Bytes}
	writeErr := make(chan error, 1)
	go func() {
		_, err := io.CopyBuffer(counter, f, make([]byte, writeBuffer))
		if err != nil {
			err = fmt.Errorf("read image payload: %w", err)
		}
		pw.CloseWithError(err)
		writeErr <- err
	}()

	var stderr tailWriter
	runErr := r.Run(ctx, s.opts.RemoteDocker+" load", pr, io.Discard, &stderr)
	pr.CloseWithError(errors.New("remote docker load ended"))
	werr := <-writeErr
	res.Bytes = counter.total()
	counter.report(true)
	switch {
	case runErr != nil:
		return &LoadError{Err: runErr, Stderr: stderr.String()}
	case werr != nil:
		return werr
	}
	return nil
}

// LoadError is a failed `docker load` on the host with its stderr.
type LoadError struct {
	Err    error
	Stderr string
}

func (e *LoadError) Error() string {
	msg := "docker load on host: " + e.Err.Error()
	if s := strings.TrimSpace(e.Stderr); s != "" && !strings.Contains(msg, s) {
		msg += ": " + s
	}
	return msg
}

func (e *LoadError) Unwrap() error { return e.Err }

// isMissingLayer says whether a load failed because a layer file we left out
// was needed after all (the host lost the layer between check and load).
func isMissingLayer(err error) bool {
	var le *LoadError
	if !errors.As(err, &le) {
		return false
	}
	msg := le.Stderr + " " + le.Err.Error()
	return strings.Contains(msg, "no such file or directory") || strings.Contains(msg, "layer does not exist")
}
