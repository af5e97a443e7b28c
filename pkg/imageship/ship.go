package imageship

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
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
	// prefetched are host inventories listed ahead (PrefetchHost).
	prefetched map[string]*prefetch
	// bg are the background saves and listings Close cancels and waits
	// for, so none writes an archive after Close removed the work dir.
	bg       sync.WaitGroup
	bgCancel []context.CancelFunc
}

// background runs fn on its own goroutine with a context Close cancels.
func (s *Shipper) background(ctx context.Context, fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.bgCancel = append(s.bgCancel, cancel)
	s.bg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.bg.Done()
		defer cancel()
		fn(ctx)
	}()
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

// Close stops what runs in the background and removes the saved archives.
func (s *Shipper) Close() error {
	s.mu.Lock()
	cancels := s.bgCancel
	s.bgCancel = nil
	s.mu.Unlock()
	for _, cancel := range cancels {
		cancel()
	}
	s.bg.Wait()
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
	if s.hasImage(ctx, r, image, li.id) {
		// One inspect instead of listing every image the host holds: the
		// common case of the sidecar's and accessories' images.
		res.Present, res.LayersSkipped = true, len(li.layers)
		return nil
	}

	// The local save (once per image) runs while the host says what it
	// has; a host that has the image already leaves it to the next host.
	saved := make(chan error, 1)
	s.background(ctx, func(ctx context.Context) { saved <- s.saveLocal(ctx, li) })
	have, err := s.inventory(ctx, host, r)
	if err != nil {
		return err
	}
	if tags, ok := have.tags[li.id]; ok {
		res.Present, res.LayersSkipped = true, len(li.layers)
		if image == li.id || strings.HasPrefix(li.id, "sha256:"+image) || slices.Contains(tags, image) {
			return nil
		}
		return s.remote(ctx, r, s.opts.RemoteDocker+" tag "+transport.Quote(li.id)+" "+transport.Quote(image))
	}

	skip := SharedPrefix(li.layers, have.layers)
	if err := <-saved; err != nil {
		return err
	}
	res.LayersSkipped = skip
	err = s.load(ctx, host, r, li, skip, res)
	if errors.Is(err, ErrLayerMissing) {
		res.Retried, res.LayersSkipped = true, 0
		err = s.load(ctx, host, r, li, 0, res)
	}
	if err != nil {
		return err
	}
	return s.verify(ctx, r, image, li.id)
}

// hasImage reports whether the host has image under that very reference
// with ID id; any failure (no such image) is a no.
func (s *Shipper) hasImage(ctx context.Context, r Remote, image, id string) bool {
	got, err := s.remoteImageID(ctx, r, image)
	return err == nil && got == id
}

// verify checks the host now has image with the expected ID.
func (s *Shipper) verify(ctx context.Context, r Remote, image, id string) error {
	got, err := s.remoteImageID(ctx, r, image)
	if err != nil {
		return fmt.Errorf("verify image on host: %w", err)
	}
	if got != id {
		return fmt.Errorf("verify image on host: %s has ID %s, want %s", image, got, id)
	}
	return nil
}

// remoteImageID is the ID of image on the host.
func (s *Shipper) remoteImageID(ctx context.Context, r Remote, image string) (string, error) {
	var out bytes.Buffer
	var stderr tailWriter
	if err := r.Run(ctx, s.opts.RemoteDocker+" image inspect --format '{{.Id}}' "+transport.Quote(image), nil, &out, &stderr); err != nil {
		return "", fmt.Errorf("%w%s", err, stderr.suffix())
	}
	return strings.TrimSpace(out.String()), nil
}

func (s *Shipper) remote(ctx context.Context, r Remote, cmd string) error {
	var stderr tailWriter
	if err := r.Run(ctx, cmd, nil, io.Discard, &stderr); err != nil {
		return fmt.Errorf("run %q on host: %w%s", cmd, err, stderr.suffix())
	}
	return nil
}
