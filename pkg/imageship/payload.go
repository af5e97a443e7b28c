package imageship

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// payload is what `docker load` receives on hosts that hold the same bottom
// layers: the archive without them, gzipped unless disabled. It is built
// once and sent to each such host, so a fleet costs one rewrite and one
// compression, not one per host (on the 2-core harness, four hosts shipped
// in parallel spent most of their time compressing the same bytes).
type payload struct {
	once sync.Once
	path string
	err  error
}

// payloadFor returns the payload file for hosts holding li's first skip
// layers, writing it on first use.
func (s *Shipper) payloadFor(li *localImage, skip int) (string, error) {
	li.payloadMu.Lock()
	if li.payloads == nil {
		li.payloads = map[int]*payload{}
	}
	p := li.payloads[skip]
	if p == nil {
		p = &payload{}
		li.payloads[skip] = p
	}
	li.payloadMu.Unlock()
	p.once.Do(func() { p.path, p.err = s.writePayload(li, skip) })
	return p.path, p.err
}

func (s *Shipper) writePayload(li *localImage, skip int) (string, error) {
	src, err := os.Open(li.archive)
	if err != nil {
		return "", fmt.Errorf("open saved image: %w", err)
	}
	defer func() { _ = src.Close() }() // read only: the rewrite's error is the one that matters
	dst, err := os.CreateTemp(filepath.Dir(li.archive), "payload-*.tar")
	if err != nil {
		return "", fmt.Errorf("write image payload: %w", err)
	}
	err = s.writeArchive(dst, src, li.index.omit(skip))
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(dst.Name()) // best effort: Close removes the work dir anyway
		return "", fmt.Errorf("write image payload: %w", err)
	}
	return dst.Name(), nil
}

// writeArchive writes the rewritten archive, gzipped unless disabled.
func (s *Shipper) writeArchive(w io.Writer, src io.Reader, omit map[string]bool) error {
	src = bufio.NewReaderSize(src, 1<<20)
	bw := bufio.NewWriterSize(w, writeBuffer)
	if s.opts.NoGzip {
		if err := rewriteArchive(bw, src, omit); err != nil {
			return err
		}
		return bw.Flush()
	}
	zw, err := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	if err != nil {
		return err
	}
	if err := rewriteArchive(zw, src, omit); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}
