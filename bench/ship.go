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

	direct, err := e.shipRepeats(ctx, f, h, connect, changed)
	if err != nil {
		return err
	}
	m := direct
	s.Add("imageship bytes on the wire", "MB", scale(m.oursB, 1.0/(1<<20)), nil)
	s.Add("save|ssh load bytes on the wire", "MB", scale(m.saveB, 1.0/(1<<20)), nil)
	s.Add("imageship bytes / changed layer", "x", scale(m.oursB, 1/float64(layer)), MaxAtMost(1.2))
	s.AddRatio("save|load bytes / imageship bytes", m.saveB, m.oursB, nil)
	s.Add("imageship time", "s", m.oursT, nil)
	s.Add("save|ssh load time", "s", m.pipeT, nil)
	s.Add("local docker save alone (in both)", "s", m.saveT, nil)
	s.AddRatio("save|load time / imageship time", m.pipeT, m.oursT, nil)

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
		s.AddRatio("save|load time / imageship time, "+shapedRate+" link", m.pipeT, m.oursT, nil)
		s.Note("the %s link is tc tbf on the host container's veth in the machine's namespace (machine to host direction)", shapedRate)
	}
	s.Note("image %s over %s (%s): base %.0f MB, changed top layer %.1f MB", changed, base, h.Name, mb(full-layer), mb(layer))
	s.Note("imageship gzips what it sends and includes its local docker save; save|ssh load uses the OpenSSH client with the same key and known_hosts")
	if err := e.benchRegistryShip(ctx, s, f, h, direct); err != nil {
		s.Note("no registry figures: %v", err)
	}
	return nil
}

// registryPassword is the bench registry's throwaway htpasswd password.
const registryPassword = "bench-registry-pw"

// benchRegistryShip measures `--ship registry` on the same host: docker push
// of a one-layer change from the machine, then docker pull on the host (what
// each sidecar does), after a warm-up round so only the changed layer moves,
// as on a later deploy.
func (e *env) benchRegistryShip(ctx context.Context, s *Scenario, f *harness.Fleet, h *harness.Host, direct *shipMeasures) error {
	if _, err := harness.RegistryImage(ctx); err != nil {
		return err
	}
	reg, err := f.StartRegistry(ctx, "bench", registryPassword)
	if err != nil {
		return err
	}
	defer reg.Close(context.WithoutCancel(ctx)) //nolint:errcheck // also removed with the fleet
	repo := reg.Server + "/kamal-e2e-app"
	login := exec.CommandContext(ctx, "docker", "login", reg.Server, "-u", "bench", "--password-stdin")
	login.Stdin = strings.NewReader(registryPassword)
	if out, err := login.CombinedOutput(); err != nil {
		return fmt.Errorf("docker login %s: %w: %s", reg.Server, err, out)
	}
	defer exec.Command("docker", "logout", reg.Server).Run() //nolint:errcheck // best effort
	if _, err := h.ExecInput(ctx, strings.NewReader(registryPassword), "docker", "login", reg.Server, "-u", "bench", "--password-stdin"); err != nil {
		return err
	}
	var tags []string
	defer func() {
		for _, t := range tags {
			exec.Command("docker", "image", "rm", t).Run() //nolint:errcheck // best effort
		}
	}()
	push := func(ref, tag string) (time.Duration, error) {
		t := repo + ":" + tag
		if out, err := exec.CommandContext(ctx, "docker", "tag", ref, t).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("docker tag %s: %w: %s", t, err, out)
		}
		tags = append(tags, t)
		t0 := time.Now()
		if out, err := exec.CommandContext(ctx, "docker", "push", "-q", t).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("docker push %s: %w: %s", t, err, out)
		}
		return time.Since(t0), nil
	}
	pull := func(tag string) (time.Duration, int64, error) {
		before, _ := reg.PulledBytes(h.Name)
		t0 := time.Now()
		if _, err := h.Docker(ctx, "pull", "-q", repo+":"+tag); err != nil {
			return 0, 0, err
		}
		d := time.Since(t0)
		after, _ := reg.PulledBytes(h.Name)
		return d, after - before, nil
	}
	// Round 0 warms up: the host loaded the base with docker load, so its
	// engine does not yet know the base layer's registry digest and pulls it
	// once (37 MB against 4 MB afterwards, in a trial run).
	var pushT, pullT, total, pulled []float64
	for i := -1; i < e.opts.Repeats; i++ {
		ref, err := harness.BuildSampleApp(ctx, fmt.Sprintf("rg%d", i+1))
		if err != nil {
			return err
		}
		e.images.extra = append(e.images.extra, ref)
		pu, err := push(ref, fmt.Sprintf("rg%d", i+1))
		if err != nil {
			return err
		}
		pl, n, err := pull(fmt.Sprintf("rg%d", i+1))
		if err != nil {
			return err
		}
		if i < 0 {
			continue
		}
		pushT, pullT = append(pushT, secs(pu)), append(pullT, secs(pl))
		total, pulled = append(total, secs(pu+pl)), append(pulled, mb(n))
	}
	s.Add("registry: docker push (one-layer change)", "s", pushT, nil)
	s.Add("registry: docker pull on the host", "s", pullT, nil)
	s.Add("registry: push + pull", "s", total, nil)
	s.Add("registry: bytes the host pulled", "MB", pulled, nil)
	s.AddRatio("save|load time / registry push+pull time", direct.pipeT, total, nil)
	s.Note("registry: distribution v3.1.2 on the fleet network, pushed to from the machine at %s; the host pulls through an SSH remote forward (the harness has no other route), so its bytes include HTTP", reg.Server)
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
