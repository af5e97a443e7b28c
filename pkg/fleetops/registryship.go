package fleetops

// Registry mode: the app image is pushed once from the local engine and
// every host pulls it, logging in first with the password on stdin (never
// on a command line). Without a registry, or with --ship direct, the
// shipper of ship.go streams the layers over SSH instead.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/deploy"
	"github.com/dockerkamal/docker-kamal/pkg/output"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// Timeouts of the registry steps.
const (
	registryLoginTimeout = 60 * time.Second
	registryPushTimeout  = 30 * time.Minute
	registryPullTimeout  = 30 * time.Minute
)

// pullScript is the host's shell command line: log in (password on
// stdin) and pull.
func pullScript(r *spec.Registry, image string) string {
	pull := transport.Quote("docker", "pull", image)
	login := registryLoginArgs(r)
	if login == nil {
		return pull
	}
	return transport.Quote(append([]string{"docker"}, login...)...) + " >/dev/null && " + pull
}

// localDocker runs the local docker CLI with stdin and returns its
// combined output.
type localDocker func(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error)

func execDocker(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin = stdin
	return cmd.CombinedOutput()
}

// remoteHost runs a command line on one host; *transport.Conn is one.
type remoteHost interface {
	Host() string
	Run(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) error
}

// registryShipper pushes the app image once and has each host pull it.
type registryShipper struct {
	s      *Session
	hosts  []string
	push   bool // false with --skip-push: the image is already in the registry
	docker localDocker
	each   func(ctx context.Context, hosts []string, fn func(ctx context.Context, h remoteHost) error) error
	// sizes reads the image's layer sizes from the registry.
	sizes func(ctx context.Context, image string) (map[string]int64, error)
	// checkArch refuses an image the hosts cannot run (archcheck.go).
	checkArch func(ctx context.Context, flags []string, image string) error

	pulled atomic.Int64 // bytes of the layers the hosts pulled, where known
}

func newRegistryShipper(s *Session, hosts []string, push bool) *registryShipper {
	return &registryShipper{
		s: s, hosts: hosts, push: push, docker: execDocker,
		each: func(ctx context.Context, hosts []string, fn func(ctx context.Context, h remoteHost) error) error {
			return s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error { return fn(ctx, c) })
		},
		sizes: func(ctx context.Context, image string) (map[string]int64, error) {
			return fetchLayerSizes(ctx, http.DefaultClient, s.Cfg.Registry, image)
		},
		checkArch: func(ctx context.Context, flags []string, image string) error {
			return s.checkArch(ctx, flags, image, hosts)
		},
	}
}

var _ deploy.Shipper = (*registryShipper)(nil)

// Ship implements deploy.Shipper: push (unless skipped), then pull on every
// host in parallel.
func (rs *registryShipper) Ship(ctx context.Context, image string) error {
	var sizes map[string]int64
	if rs.push {
		var err error
		if sizes, err = rs.pushLocal(ctx, image); err != nil {
			return err
		}
	} else {
		sizes = rs.layerSizes(ctx, image)
	}
	return rs.each(ctx, rs.hosts, func(ctx context.Context, h remoteHost) error {
		return rs.pull(ctx, h, image, sizes)
	})
}

// BytesPulled is the total of the layers the hosts pulled, where the
// registry's manifest told their sizes.
func (rs *registryShipper) BytesPulled() int64 { return rs.pulled.Load() }

// pushLocal logs the local engine in (when credentials are configured),
// pushes image and returns its layer sizes (nil when unknown).
func (rs *registryShipper) pushLocal(ctx context.Context, image string) (map[string]int64, error) {
	reg, out := rs.s.Cfg.Registry, rs.s.out
	flags, err := rs.s.appEngine(ctx)
	if err != nil {
		return nil, err
	}
	if err := rs.checkArch(ctx, flags, image); err != nil {
		return nil, err
	}
	if login := registryLoginArgs(reg); login != nil {
		lctx, cancel := context.WithTimeout(ctx, registryLoginTimeout)
		b, err := rs.docker(lctx, strings.NewReader(reg.Password), append(dockerArgs(flags), login...)...)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("log in to registry %s: %w: %s", reg.Server, err, out.Redact(output.LastLines(string(b), 5)))
		}
	}
	t0 := time.Now()
	pctx, cancel := context.WithTimeout(ctx, registryPushTimeout)
	defer cancel()
	b, err := rs.docker(pctx, nil, append(dockerArgs(flags), "push", image)...)
	if err != nil {
		return nil, fmt.Errorf("push %s: %w: %s", image, err, out.Redact(output.LastLines(string(b), 5)))
	}
	out.Verbose("%s", out.Redact(strings.TrimSpace(string(b))))
	p := parsePush(b)
	sizes := rs.layerSizes(ctx, image)
	status := fmt.Sprintf("%d of %d layers pushed", p.pushed, p.layers)
	if n, ok := sumSizes(sizes, p.pushedIDs); ok {
		status += ", " + humanBytes(n)
	}
	out.Step("local", "push "+image, status, time.Since(t0))
	return sizes, nil
}

// layerSizes reads image's compressed layer sizes from the registry, by
// short layer ID. Nil when it cannot: sizes are shown where known, and
// nothing depends on them.
func (rs *registryShipper) layerSizes(ctx context.Context, image string) map[string]int64 {
	sizes, err := rs.sizes(ctx, image)
	if err != nil {
		rs.s.out.Verbose("layer sizes of %s unknown: %s", image, rs.s.out.Redact(err.Error()))
		return nil
	}
	return sizes
}

// pull has one host log in and pull image.
func (rs *registryShipper) pull(ctx context.Context, h remoteHost, image string, sizes map[string]int64) error {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, registryPullTimeout)
	defer cancel()
	var stdin io.Reader
	if registryLoginArgs(rs.s.Cfg.Registry) != nil {
		stdin = strings.NewReader(rs.s.Cfg.Registry.Password)
	}
	var stdout, stderr bytes.Buffer
	if err := h.Run(ctx, pullScript(rs.s.Cfg.Registry, image), stdin, &stdout, &stderr); err != nil {
		msg := output.LastLines(stderr.String(), 5)
		if msg == "" {
			msg = output.LastLines(stdout.String(), 5)
		}
		return fmt.Errorf("pull %s: %w: %s", image, err, rs.s.out.Redact(msg))
	}
	p := parsePull(stdout.Bytes())
	status := fmt.Sprintf("pulled %d of %d layers", p.pulled, p.layers)
	if n, ok := sumSizes(sizes, p.pulledIDs); ok {
		status += ", " + humanBytes(n)
		rs.pulled.Add(n)
	}
	if p.upToDate {
		status = "already present"
	}
	rs.s.out.Step(h.Host(), "pull "+image, status, time.Since(t0))
	return nil
}

// dockerArgs copies the user's docker global flags (never aliasing them).
func dockerArgs(flags []string) []string {
	return append([]string(nil), flags...)
}

// pushReport is what `docker push` printed, per layer.
type pushReport struct {
	layers, pushed int
	pushedIDs      []string
	digest         string
}

// parsePush reads `docker push` output without a terminal: "<id>: Pushed",
// "<id>: Layer already exists", "<tag>: digest: sha256:... size: N".
func parsePush(out []byte) pushReport {
	var p pushReport
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		id, status, ok := strings.Cut(strings.TrimSpace(sc.Text()), ": ")
		if !ok {
			continue
		}
		switch {
		case status == "Pushed" || status == "Mounted from" || strings.HasPrefix(status, "Mounted from "):
			if !seen[id] {
				seen[id] = true
				p.layers++
				p.pushed++
				p.pushedIDs = append(p.pushedIDs, id)
			}
		case status == "Layer already exists":
			if !seen[id] {
				seen[id] = true
				p.layers++
			}
		case strings.HasPrefix(status, "digest: "):
			p.digest, _, _ = strings.Cut(strings.TrimPrefix(status, "digest: "), " ")
		}
	}
	return p
}

// pullReport is what `docker pull` printed.
type pullReport struct {
	layers, pulled int
	pulledIDs      []string
	upToDate       bool
	digest         string
}

// parsePull reads `docker pull` output without a terminal: "<id>: Pull
// complete", "<id>: Already exists", "Digest: ...", "Status: Image is up
// to date for ...".
func parsePull(out []byte) pullReport {
	var p pullReport
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, val, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch {
		case key == "Digest":
			p.digest = val
		case key == "Status":
			p.upToDate = strings.HasPrefix(val, "Image is up to date")
		case val == "Pull complete":
			p.layers++
			p.pulled++
			p.pulledIDs = append(p.pulledIDs, key)
		case val == "Already exists":
			p.layers++
		}
	}
	return p
}

// sumSizes adds the sizes of ids; ok is false when one is unknown.
func sumSizes(sizes map[string]int64, ids []string) (n int64, ok bool) {
	if sizes == nil {
		return 0, false
	}
	for _, id := range ids {
		s, found := sizes[id]
		if !found {
			return 0, false
		}
		n += s
	}
	return n, true
}

// shippedBytes is what went to the hosts: the direct shipper's bytes plus
// the layers pulled from the registry.
func shippedBytes(sh *shipper, app deploy.Shipper) int64 {
	n := sh.BytesSent()
	if rs, ok := app.(*registryShipper); ok {
		n += rs.BytesPulled()
	}
	return n
}

// appShipper is the deploy.Shipper of the app image for mode: the
// registry, or the direct shipper sh.
func (s *Session) appShipper(mode string, sh *shipper, hosts []string, push bool) deploy.Shipper {
	if mode == ShipRegistry {
		return newRegistryShipper(s, hosts, push)
	}
	return sh
}
