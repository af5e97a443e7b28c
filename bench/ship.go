package bench

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/pkg/imageship"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// benchShip ships a one-layer change of the sample app (new binary over the
// ~86 MB base) to a host that has the previous version, with pkg/imageship
// and with `docker save | ssh HOST docker load`, alternating, removing the
// image from the host between attempts so both start from the same state.
func (e *env) benchShip(ctx context.Context, s *Scenario, f *harness.Fleet, h *harness.Host) error {
	base, changed := e.images.app, e.images.shipChanged
	pool, err := transport.NewPool(transport.Options{ConfigFile: f.SSHConfig, AgentSocket: "none", ConnectTimeout: 20 * time.Second})
	if err != nil {
		return err
	}
	defer pool.Close()
	connect := func(ctx context.Context, host string) (imageship.Remote, error) { return pool.Get(ctx, host) }

	// The host gets the base version first (all layers), as after a first
	// deploy.
	first := imageship.New(imageship.Options{})
	r := first.ShipAll(ctx, base, []string{h.Name}, connect)[0]
	first.Close()
	if r.Err != nil {
		return r.Err
	}
	s.Add("first ship (all layers)", "MB", []float64{mb(r.Bytes)}, nil)

	layer, err := topLayerSize(ctx, changed)
	if err != nil {
		return err
	}
	full, err := archiveSize(ctx, changed)
	if err != nil {
		return err
	}
	s.Add("changed layer (uncompressed)", "MB", []float64{mb(layer)}, nil)
	s.Add("docker save archive", "MB", []float64{mb(full)}, nil)

	m, err := e.shipRepeats(ctx, f, h, connect, changed)
	if err != nil {
		return err
	}
	s.Add("imageship bytes on the wire", "MB", scale(m.oursB, 1.0/(1<<20)), nil)
	s.Add("save|ssh load bytes on the wire", "MB", scale(m.saveB, 1.0/(1<<20)), nil)
	s.Add("imageship bytes / changed layer", "x", scale(m.oursB, 1/float64(layer)), MaxAtMost(1.2))
	s.AddRatio("save|load bytes / imageship bytes", m.saveB, m.oursB, nil)
	s.Add("imageship time", "s", m.oursT, nil)
	s.Add("save|ssh load time", "s", m.pipeT, nil)
	s.Add("local docker save alone (in both)", "s", m.saveT, nil)
	s.AddRatio("save|load time / imageship time", m.pipeT, m.oursT, AtLeast(10))

	// The same over a link limited to shapedRate, as to a remote server.
	undo, err := shapeLink(ctx, h, shapedRate)
	if err != nil {
		s.Note("no shaped-link figures: %v", err)
	} else {
		m, err := e.shipRepeats(ctx, f, h, connect, changed)
		undo()
		if err != nil {
			return err
		}
		s.Add("imageship time, "+shapedRate+" link", "s", m.oursT, nil)
		s.Add("save|ssh load time, "+shapedRate+" link", "s", m.pipeT, nil)
		s.AddRatio("save|load time / imageship time, "+shapedRate+" link", m.pipeT, m.oursT, AtLeast(10))
		s.Note("the %s link is tc tbf on the host container's veth in the machine's namespace (machine to host direction)", shapedRate)
	}
	s.Note("image %s over %s (%s): base %.0f MB, changed top layer %.1f MB", changed, base, h.Name, mb(full-layer), mb(layer))
	s.Note("imageship gzips what it sends and includes its local docker save; save|ssh load uses the OpenSSH client with the same key and known_hosts")
	s.Note("no registry mode is measured: the product has none yet")
	return nil
}

// shapedRate is the link speed of the shaped shipping figures.
const shapedRate = "100mbit"

// shipMeasures are the repeats of one shipping comparison.
type shipMeasures struct {
	oursB, oursT, saveB, pipeT, saveT []float64
}

// shipRepeats ships changed to h with imageship and with save|ssh load,
// alternating which goes first, removing it from h after each.
func (e *env) shipRepeats(ctx context.Context, f *harness.Fleet, h *harness.Host, connect func(ctx context.Context, host string) (imageship.Remote, error), changed string) (*shipMeasures, error) {
	m := &shipMeasures{}
	for i := 0; i < e.opts.Repeats; i++ {
		ship := func() error {
			sh := imageship.New(imageship.Options{})
			defer sh.Close()
			r := sh.ShipAll(ctx, changed, []string{h.Name}, connect)[0]
			if r.Err != nil {
				return r.Err
			}
			if r.LayersSkipped != r.Layers-1 {
				return fmt.Errorf("imageship sent %d of %d layers, want 1", r.Layers-r.LayersSkipped, r.Layers)
			}
			m.oursB = append(m.oursB, float64(r.Bytes))
			m.oursT = append(m.oursT, secs(r.Duration))
			return nil
		}
		saveLoad := func() error {
			n, d, err := saveSSHLoad(ctx, f, h, changed)
			if err != nil {
				return err
			}
			m.saveB = append(m.saveB, float64(n))
			m.pipeT = append(m.pipeT, secs(d))
			// The local docker save alone, which both methods include.
			t0 := time.Now()
			if _, err := archiveSize(ctx, changed); err != nil {
				return err
			}
			m.saveT = append(m.saveT, secs(time.Since(t0)))
			return nil
		}
		order := []func() error{ship, saveLoad}
		if i%2 == 1 {
			order = []func() error{saveLoad, ship}
		}
		for _, run := range order {
			if err := run(); err != nil {
				return nil, err
			}
			if err := e.hostHasImage(ctx, h, changed); err != nil {
				return nil, err
			}
			if _, err := h.Docker(ctx, "image", "rm", changed); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// shapeLink limits the machine-to-h direction of h's link to rate (tc tbf
// on the host container's veth, in the machine's network namespace) and
// returns the undo.
func shapeLink(ctx context.Context, h *harness.Host, rate string) (func(), error) {
	idx, err := h.Exec(ctx, "cat", "/sys/class/net/eth0/iflink")
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, "ip", "-o", "link").Output()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	dev := ""
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == strings.TrimSpace(idx)+":" {
			dev = strings.TrimSuffix(strings.SplitN(f[1], "@", 2)[0], ":")
		}
	}
	if dev == "" {
		return nil, fmt.Errorf("no link with index %s for %s", strings.TrimSpace(idx), h.Name)
	}
	if out, err := exec.CommandContext(ctx, "tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate", rate, "burst", "256kb", "latency", "100ms").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("tc on %s: %w: %s", dev, err, out)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		exec.CommandContext(ctx, "tc", "qdisc", "del", "dev", dev, "root").Run() //nolint:errcheck // gone with the container anyway
	}, nil
}

func (e *env) hostHasImage(ctx context.Context, h *harness.Host, ref string) error {
	want, err := harness.ImageID(ctx, ref)
	if err != nil {
		return err
	}
	got, err := h.Docker(ctx, "image", "inspect", "--format", "{{.Id}}", ref)
	if err != nil {
		return err
	}
	if strings.TrimSpace(got) != want {
		return fmt.Errorf("%s on %s has ID %s, want %s", ref, h.Name, got, want)
	}
	return nil
}

// saveSSHLoad is the baseline: docker save piped into ssh HOST docker load.
func saveSSHLoad(ctx context.Context, f *harness.Fleet, h *harness.Host, ref string) (int64, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	start := time.Now()
	save := exec.CommandContext(ctx, "docker", "save", ref)
	load := exec.CommandContext(ctx, "ssh", "-F", f.SSHConfig, "-o", "BatchMode=yes", h.Name, "docker load -q")
	out, err := save.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	var n atomic.Int64
	load.Stdin = &countingReader{r: out, n: &n}
	var loadOut strings.Builder
	load.Stdout, load.Stderr = &loadOut, &loadOut
	if err := save.Start(); err != nil {
		return 0, 0, err
	}
	if err := load.Run(); err != nil {
		save.Process.Kill() //nolint:errcheck // already failing
		save.Wait()         //nolint:errcheck // already failing
		return 0, 0, fmt.Errorf("ssh %s docker load: %w: %s", h.Name, err, loadOut.String())
	}
	if err := save.Wait(); err != nil {
		return 0, 0, fmt.Errorf("docker save %s: %w", ref, err)
	}
	return n.Load(), time.Since(start), nil
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// topLayerSize is the size of ref's newest non-empty layer.
func topLayerSize(ctx context.Context, ref string) (int64, error) {
	out, err := exec.CommandContext(ctx, "docker", "history", "--no-trunc", "--human=false", "--format", "{{.Size}}", ref).Output()
	if err != nil {
		return 0, fmt.Errorf("docker history %s: %w", ref, err)
	}
	for _, f := range strings.Fields(string(out)) {
		if n, err := strconv.ParseInt(f, 10, 64); err == nil && n > 0 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("docker history %s: no non-empty layer", ref)
}

// archiveSize is the size of `docker save ref`.
func archiveSize(ctx context.Context, ref string) (int64, error) {
	cmd := exec.CommandContext(ctx, "docker", "save", ref)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, out)
	if werr := cmd.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return 0, fmt.Errorf("docker save %s: %w", ref, err)
	}
	return n, nil
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

func scale(v []float64, k float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x * k
	}
	return out
}
