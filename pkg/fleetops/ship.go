package fleetops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/imageship"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// EnvShipCompress set to "0" ships image layers uncompressed.
const EnvShipCompress = "DOCKER_KAMAL_SHIP_COMPRESS"

// Ship modes of the app image (--ship).
const (
	// ShipDirect streams the layers a host lacks over SSH.
	ShipDirect = "direct"
	// ShipRegistry pushes once and has every host pull.
	ShipRegistry = "registry"
)

// Errors of --ship.
var (
	// ErrNoRegistry is --ship registry with no registry: in the config.
	ErrNoRegistry = errors.New("--ship registry needs a registry: section in the config")
	// ErrUnknownShipMode is a --ship that is neither mode.
	ErrUnknownShipMode = errors.New("want " + ShipDirect + " or " + ShipRegistry)
)

// shipMode resolves the --ship flag against the config: registry when one
// is configured, else direct.
func shipMode(flag string, r *spec.Registry) (string, error) {
	switch flag {
	case "":
		if r != nil {
			return ShipRegistry, nil
		}
		return ShipDirect, nil
	case ShipDirect:
		return ShipDirect, nil
	case ShipRegistry:
		if r == nil {
			return "", ErrNoRegistry
		}
		return ShipRegistry, nil
	}
	return "", fmt.Errorf("--ship %q: %w", flag, ErrUnknownShipMode)
}

// shipper puts images on hosts, sending only the layers each one lacks.
type shipper struct {
	s     *Session
	ship  *imageship.Shipper
	hosts []string
	// app ships the app image from a remote builder's engine (engine.go).
	app *imageship.Shipper

	mu      sync.Mutex
	results []imageship.Result
	// early are ships started ahead of their step (see shipEarly).
	early map[string]*earlyShip
	wg    sync.WaitGroup
	bg    context.Context
	stop  context.CancelFunc
}

// earlyShip is a ship under way in the background.
type earlyShip struct {
	hosts []string
	done  chan struct{}
	err   error
}

func newShipper(s *Session, hosts []string) *shipper {
	sh := &shipper{s: s, hosts: hosts}
	sh.ship = newImageShip(s, s.Opts.DockerFlags)
	return sh
}

// newImageShip ships from the engine of flags.
func newImageShip(s *Session, flags []string) *imageship.Shipper {
	var lastReport sync.Map
	return imageship.New(imageship.Options{
		DockerFlags: flags,
		// gzip wins on real links; on a LAN (or local test hosts) the CPU
		// it costs is slower than sending the bytes.
		NoGzip: os.Getenv(EnvShipCompress) == "0",
		Progress: func(host string, sent int64) {
			// One line per host per second at most, with -v.
			now := time.Now()
			if v, ok := lastReport.Load(host); ok && now.Sub(v.(time.Time)) < time.Second {
				return
			}
			lastReport.Store(host, now)
			s.out.Verbose("[%s] sent %s", host, humanBytes(sent))
		},
	})
}

// Ship implements deploy.Shipper for the app image: from the engine that
// built it, once its architecture matches every host's.
func (sh *shipper) Ship(ctx context.Context, image string) error {
	flags, err := sh.s.appEngine(ctx)
	if err != nil {
		return err
	}
	if err := sh.s.checkArch(ctx, flags, image, sh.hosts); err != nil {
		return err
	}
	from := sh.ship
	if !slices.Equal(flags, sh.s.Opts.DockerFlags) {
		sh.mu.Lock()
		if sh.app == nil {
			sh.app = newImageShip(sh.s, flags)
		}
		from = sh.app
		sh.mu.Unlock()
	}
	return sh.shipFrom(ctx, from, image, sh.hosts)
}

func (sh *shipper) shipTo(ctx context.Context, image string, hosts []string) error {
	sh.mu.Lock()
	e := sh.early[image]
	sh.mu.Unlock()
	if e != nil && covers(e.hosts, hosts) {
		select {
		case <-e.done:
			return e.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return sh.shipNow(ctx, image, hosts)
}

// shipEarly starts shipping image to hosts in the background, so it
// overlaps the steps before the one that needs it (setup ships Traefik and
// the accessories' images while the sidecar starts and the app ships); that
// step's shipTo then waits for it. Close cancels and waits for it.
func (sh *shipper) shipEarly(ctx context.Context, image string, hosts []string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.early[image]; ok || len(hosts) == 0 {
		return
	}
	if sh.early == nil {
		sh.early = map[string]*earlyShip{}
	}
	if sh.bg == nil {
		sh.bg, sh.stop = context.WithCancel(ctx)
	}
	ctx = sh.bg
	e := &earlyShip{hosts: slices.Clone(hosts), done: make(chan struct{})}
	sh.early[image] = e
	sh.wg.Add(1)
	go func() {
		defer sh.wg.Done()
		defer close(e.done)
		e.err = sh.shipNow(ctx, image, e.hosts)
	}()
}

// saveEarly saves image from the local engine in the background (see
// imageship.Shipper.Prepare), while the hosts are prepared and the lock
// taken; a failure is left for the ship itself to report.
func (sh *shipper) saveEarly(ctx context.Context, image string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.bg == nil {
		sh.bg, sh.stop = context.WithCancel(ctx)
	}
	ctx = sh.bg
	sh.wg.Add(1)
	go func() {
		defer sh.wg.Done()
		_ = sh.ship.Prepare(ctx, image) // Ship saves again, and says why, if this failed
	}()
}

// prefetchHosts lists every host's images in the background, for the app
// ship that follows the build (see imageship.Shipper.PrefetchHost).
func (sh *shipper) prefetchHosts(ctx context.Context) {
	for _, h := range sh.hosts {
		r, err := sh.s.pool.Get(ctx, h)
		if err != nil {
			continue // the ship itself reports an unreachable host
		}
		sh.ship.PrefetchHost(ctx, h, r)
	}
}

// covers reports whether every host of want is in have.
func covers(have, want []string) bool {
	for _, h := range want {
		if !slices.Contains(have, h) {
			return false
		}
	}
	return true
}

func (sh *shipper) shipNow(ctx context.Context, image string, hosts []string) error {
	return sh.shipFrom(ctx, sh.ship, image, hosts)
}

func (sh *shipper) shipFrom(ctx context.Context, from *imageship.Shipper, image string, hosts []string) error {
	results := from.ShipAll(ctx, image, hosts, func(ctx context.Context, host string) (imageship.Remote, error) {
		return sh.s.pool.Get(ctx, host)
	})
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
			continue
		}
		status := fmt.Sprintf("%s in %d of %d layers", humanBytes(r.Bytes), r.Layers-r.LayersSkipped, r.Layers)
		if r.Present {
			status = "already present"
		}
		sh.s.out.Step(r.Host, "ship "+image, status, r.Duration)
	}
	sh.mu.Lock()
	sh.results = append(sh.results, results...)
	sh.mu.Unlock()
	return errors.Join(errs...)
}

// BytesSent is the total shipped over the wire so far.
func (sh *shipper) BytesSent() int64 {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var n int64
	for _, r := range sh.results {
		n += r.Bytes
	}
	return n
}

func (sh *shipper) Close() {
	sh.mu.Lock()
	stop := sh.stop
	sh.mu.Unlock()
	if stop != nil {
		stop()
	}
	sh.wg.Wait()
	_ = sh.ship.Close() // temp files only; the command's result stands
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.app != nil {
		_ = sh.app.Close()
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
