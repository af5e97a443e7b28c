// Package imageship copies a local Docker image to hosts over SSH, sending
// only the layers a host lacks: it asks the host which layer chains it holds,
// leaves the files of those layers out of a `docker save` archive and streams
// the rest into `docker load` on the host. Works on hosts with only the docker
// CLI (the sidecar image itself is shipped this way).
package imageship

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// Defaults for Options.
const (
	DefaultDocker           = "docker"
	DefaultMaxParallel      = 8
	DefaultProgressInterval = 200 * time.Millisecond
	// writeBuffer is the size of writes into the SSH channel.
	writeBuffer = 256 << 10
	// stderrTail bounds the remote stderr kept for errors.
	stderrTail = 4 << 10
)

// Remote runs shell command lines on one host. *transport.Conn implements it.
type Remote interface {
	Run(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) error
}

// Options configure a Shipper.
type Options struct {
	// DockerFlags are the Docker CLI global flags for local docker commands
	// (e.g. --context x), as in command.Globals.DockerFlags.
	DockerFlags []string
	// Docker is the local docker binary. Default DefaultDocker.
	Docker string
	// RemoteDocker is the docker command on hosts, inserted into remote
	// command lines as is (e.g. "sudo docker"). Default DefaultDocker.
	RemoteDocker string
	// NoGzip sends the archive uncompressed (gzip at best speed by default;
	// `docker load` detects it).
	NoGzip bool
	// MaxParallel bounds hosts shipped to at once by ShipAll.
	MaxParallel int
	// Progress, when set, is called with the bytes sent so far to a host, at
	// most every DefaultProgressInterval, and with the total when Ship ends.
	// It may be called from several goroutines.
	Progress func(host string, sent int64)
	// TempDir holds the saved archives. Default os.TempDir().
	TempDir string
}

// Result is what happened for one host.
type Result struct {
	Host    string
	Image   string
	ImageID string
	// Present: the host already had the image ID; nothing was sent.
	Present bool
	// Layers is the image's layer count; LayersSkipped were on the host.
	Layers, LayersSkipped int
	// Bytes sent on the wire (after compression), all attempts.
	Bytes    int64
	Duration time.Duration
	// Retried: the first load failed on a missing layer (the host pruned it
	// meanwhile) and the full archive was sent.
	Retried bool
	Err     error
}

// Shipper ships images for one command. It inspects and saves each image
// locally at most once, whatever the number of hosts. Close it to remove the
// saved archives.
type Shipper struct {
	opts Options

	mu     sync.Mutex
	images map[string]*localImage
	dir    string
}

// localImage is one image as the local engine has it, and its saved archive.
type localImage struct {
	ref     string
	inspect sync.Once
	id      string
	layers  []string
	err     error

	save    sync.Once
	archive string
	index   *archiveIndex
	saveErr error

	payloadMu sync.Mutex
	payloads  map[int]*payload // by layers left out
}

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

// New returns a Shipper.
func New(opts Options) *Shipper {
	if opts.Docker == "" {
		opts.Docker = DefaultDocker
	}
	if opts.RemoteDocker == "" {
		opts.RemoteDocker = DefaultDocker
	}
	if opts.MaxParallel <= 0 {
		opts.MaxParallel = DefaultMaxParallel
	}
	return &Shipper{opts: opts, images: map[string]*localImage{}}
}

// Close removes the saved archives.
func (s *Shipper) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		return nil
	}
	err := os.RemoveAll(s.dir)
	s.dir = ""
	s.images = map[string]*localImage{}
	return err
}

// ShipAll ships image to every host, at most Options.MaxParallel at once,
// getting each host's Remote from connect (e.g. a transport.Pool's Get).
// Results are in hosts order; check each Err.
func (s *Shipper) ShipAll(ctx context.Context, image string, hosts []string, connect func(ctx context.Context, host string) (Remote, error)) []Result {
	results := make([]Result, len(hosts))
	sem := make(chan struct{}, s.opts.MaxParallel)
	var wg sync.WaitGroup
	for i, h := range hosts {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i] = Result{Host: h, Image: image, Err: fmt.Errorf("ship %s to %s: %w", image, h, ctx.Err())}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := connect(ctx, h)
			if err != nil {
				results[i] = Result{Host: h, Image: image, Err: fmt.Errorf("ship %s to %s: %w", image, h, err)}
				return
			}
			results[i] = s.Ship(ctx, h, r, image)
		}()
	}
	wg.Wait()
	return results
}

// Ship makes host (reached through r) hold image with the same ID as the
// local engine, sending only what it lacks, and tags it as image there.
func (s *Shipper) Ship(ctx context.Context, host string, r Remote, image string) Result {
	start := time.Now()
	res := Result{Host: host, Image: image}
	err := s.ship(ctx, host, r, image, &res)
	res.Duration = time.Since(start)
	if err != nil {
		res.Err = fmt.Errorf("ship %s to %s: %w", image, host, err)
	}
	if s.opts.Progress != nil {
		s.opts.Progress(host, res.Bytes) // final, also when nothing was sent
	}
	return res
}

func (s *Shipper) ship(ctx context.Context, host string, r Remote, image string, res *Result) error {
	li, err := s.inspectLocal(ctx, image)
	if err != nil {
		return err
	}
	res.ImageID, res.Layers = li.id, len(li.layers)

	have, err := s.hostImages(ctx, r)
	if err != nil {
		return err
	}
	if tags, ok := have.tags[li.id]; ok {
		res.Present, res.LayersSkipped = true, len(li.layers)
		if image == li.id || strings.HasPrefix(li.id, "sha256:"+image) || contains(tags, image) {
			return nil
		}
		return s.remote(ctx, r, s.opts.RemoteDocker+" tag "+transport.Quote(li.id)+" "+transport.Quote(image))
	}

	skip := SharedPrefix(li.layers, have.layers)
	if err := s.saveLocal(ctx, li); err != nil {
		return err
	}
	res.LayersSkipped = skip
	err = s.load(ctx, host, r, li, skip, res)
	if err != nil && skip > 0 && isMissingLayer(err) {
		res.Retried, res.LayersSkipped = true, 0
		err = s.load(ctx, host, r, li, 0, res)
	}
	if err != nil {
		return err
	}
	return s.verify(ctx, r, image, li.id)
}

// inspectLocal returns the local image's ID and layers, once per image.
func (s *Shipper) inspectLocal(ctx context.Context, image string) (*localImage, error) {
	s.mu.Lock()
	li, ok := s.images[image]
	if !ok {
		li = &localImage{ref: image}
		s.images[image] = li
	}
	s.mu.Unlock()
	li.inspect.Do(func() {
		out, err := s.docker(ctx, "image", "inspect", "--format", "{{json .Id}} {{json .RootFS.Layers}}", image)
		if err != nil {
			li.err = fmt.Errorf("inspect local image: %w", err)
			return
		}
		li.id, li.layers, li.err = parseInspectLine(strings.TrimSpace(string(out)))
		if li.err != nil {
			li.err = fmt.Errorf("inspect local image: %w", li.err)
		}
	})
	if li.err != nil {
		s.forgetOnCancel(image, li, li.err)
	}
	return li, li.err
}

// saveLocal runs `docker save` into a temp file and indexes it, once per image.
func (s *Shipper) saveLocal(ctx context.Context, li *localImage) error {
	li.save.Do(func() {
		li.archive, li.index, li.saveErr = s.saveArchive(ctx, li)
	})
	if li.saveErr != nil {
		s.forgetOnCancel(li.ref, li, li.saveErr)
	}
	return li.saveErr
}

// forgetOnCancel drops a cached failure caused by a cancelled context so a
// later call can try again.
func (s *Shipper) forgetOnCancel(image string, li *localImage, err error) {
	if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return
	}
	s.mu.Lock()
	if s.images[image] == li {
		delete(s.images, image)
	}
	s.mu.Unlock()
}

func (s *Shipper) saveArchive(ctx context.Context, li *localImage) (string, *archiveIndex, error) {
	s.mu.Lock()
	if s.dir == "" {
		dir, err := os.MkdirTemp(s.opts.TempDir, "kamal-ship-")
		if err != nil {
			s.mu.Unlock()
			return "", nil, fmt.Errorf("save image: %w", err)
		}
		s.dir = dir
	}
	dir := s.dir
	s.mu.Unlock()
	f, err := os.CreateTemp(dir, "image-*.tar")
	if err != nil {
		return "", nil, fmt.Errorf("save image: %w", err)
	}
	name := f.Name()
	f.Close()
	// Save by reference so the archive carries the tag for `docker load`;
	// the layers are checked against the inspected image below.
	if _, err := s.docker(ctx, "save", "-o", name, li.ref); err != nil {
		os.Remove(name)
		return "", nil, fmt.Errorf("save image: %w", err)
	}
	f, err = os.Open(name)
	if err != nil {
		return "", nil, fmt.Errorf("save image: %w", err)
	}
	defer f.Close()
	idx, err := indexArchive(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		os.Remove(name)
		return "", nil, err
	}
	if strings.Join(idx.DiffIDs, ",") != strings.Join(li.layers, ",") {
		os.Remove(name)
		return "", nil, fmt.Errorf("save image: %s changed while saving (layers differ from the inspected image)", li.ref)
	}
	return name, idx, nil
}

// docker runs the local docker CLI with the user's global flags.
func (s *Shipper) docker(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.opts.Docker, append(append([]string(nil), s.opts.DockerFlags...), args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("docker %s: %w: %s", args[0], err, strings.TrimSpace(string(lastBytes(stderr.Bytes(), stderrTail))))
	}
	return out, nil
}

// hostInventory is what the host holds: layer chains and tags per image ID.
type hostInventory struct {
	layers [][]string
	tags   map[string][]string
}

// hostImages asks the host for every image's ID, layers and tags in one round
// trip. Images removed between the listing and the inspect are tolerated.
func (s *Shipper) hostImages(ctx context.Context, r Remote) (*hostInventory, error) {
	d := s.opts.RemoteDocker
	cmd := d + " image ls -aq --no-trunc | sort -u | xargs -r " + d +
		` image inspect --format '{{json .Id}} {{json .RootFS.Layers}} {{json .RepoTags}}'`
	var out bytes.Buffer
	var stderr tailWriter
	err := r.Run(ctx, cmd, nil, &out, &stderr)
	if err != nil && (out.Len() == 0 || ctx.Err() != nil) {
		return nil, fmt.Errorf("list images on host: %w%s", err, stderr.suffix())
	}
	inv := &hostInventory{tags: map[string][]string{}}
	for _, line := range strings.Split(out.String(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		id, layers, tags, err := parseHostLine(line)
		if err != nil {
			return nil, fmt.Errorf("list images on host: %w", err)
		}
		inv.layers = append(inv.layers, layers)
		inv.tags[id] = append(inv.tags[id], tags...)
	}
	return inv, nil
}

// parseInspectLine parses `{{json .Id}} {{json .RootFS.Layers}}`.
func parseInspectLine(line string) (string, []string, error) {
	id, layers, _, err := parseHostLine(line + " null")
	return id, layers, err
}

// parseHostLine parses `{{json .Id}} {{json .RootFS.Layers}} {{json .RepoTags}}`.
func parseHostLine(line string) (id string, layers, tags []string, err error) {
	dec := json.NewDecoder(strings.NewReader(line))
	if err := dec.Decode(&id); err != nil {
		return "", nil, nil, fmt.Errorf("parse %q: %w", line, err)
	}
	if err := dec.Decode(&layers); err != nil {
		return "", nil, nil, fmt.Errorf("parse %q: %w", line, err)
	}
	if err := dec.Decode(&tags); err != nil {
		return "", nil, nil, fmt.Errorf("parse %q: %w", line, err)
	}
	if !strings.HasPrefix(id, "sha256:") {
		return "", nil, nil, fmt.Errorf("parse %q: bad image ID", line)
	}
	return id, layers, tags, nil
}

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
	defer src.Close()
	dst, err := os.CreateTemp(filepath.Dir(li.archive), "payload-*.tar")
	if err != nil {
		return "", fmt.Errorf("write image payload: %w", err)
	}
	err = s.writeArchive(dst, src, li.index.omit(skip))
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst.Name())
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

// verify checks the host now has image with the expected ID.
func (s *Shipper) verify(ctx context.Context, r Remote, image, id string) error {
	var out bytes.Buffer
	var stderr tailWriter
	err := r.Run(ctx, s.opts.RemoteDocker+" image inspect --format '{{.Id}}' "+transport.Quote(image), nil, &out, &stderr)
	if err != nil {
		return fmt.Errorf("verify image on host: %w%s", err, stderr.suffix())
	}
	if got := strings.TrimSpace(out.String()); got != id {
		return fmt.Errorf("verify image on host: %s has ID %s, want %s", image, got, id)
	}
	return nil
}

func (s *Shipper) remote(ctx context.Context, r Remote, cmd string) error {
	var stderr tailWriter
	if err := r.Run(ctx, cmd, nil, io.Discard, &stderr); err != nil {
		return fmt.Errorf("run %q on host: %w%s", cmd, err, stderr.suffix())
	}
	return nil
}

// countingWriter counts bytes and reports progress at most every
// DefaultProgressInterval.
type countingWriter struct {
	w        io.Writer
	host     string
	progress func(string, int64)
	base     int64 // bytes of earlier attempts

	mu   sync.Mutex
	n    int64
	last time.Time
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	c.report(false)
	return n, err
}

func (c *countingWriter) total() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base + c.n
}

func (c *countingWriter) report(final bool) {
	if c.progress == nil {
		return
	}
	c.mu.Lock()
	now := time.Now()
	if !final && now.Sub(c.last) < DefaultProgressInterval {
		c.mu.Unlock()
		return
	}
	c.last = now
	n := c.base + c.n
	c.mu.Unlock()
	c.progress(c.host, n)
}

// tailWriter keeps the last stderrTail bytes written.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > stderrTail {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-stderrTail:]...)
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// suffix is ": <stderr>" or "".
func (t *tailWriter) suffix() string {
	if s := t.String(); s != "" {
		return ": " + s
	}
	return ""
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
