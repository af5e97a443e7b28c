package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// Bounds of an asset probe: it runs for the length of one deploy or
// rollback, a round every assetProbeEvery.
const (
	assetProbeRounds = 600
	assetProbeEvery  = 250 * time.Millisecond
)

// assetProbe plays browsers behind a load balancer while a deploy or a
// rollback runs: each round it loads "/" from every web host and asks every
// web host for each asset that page links, as a load balancer may send the
// asset request anywhere; it also asks for the assets of known versions.
type assetProbe struct {
	r     *railsFleet
	known map[string][]string
	stop  chan struct{}
	done  chan struct{}

	mu       sync.Mutex
	pages    int
	assets   int
	seen     map[string]bool // asset paths linked by a served page
	failures []string
}

func (r *railsFleet) startAssetProbe(known map[string][]string) *assetProbe {
	p := &assetProbe{r: r, known: known, stop: make(chan struct{}), done: make(chan struct{}), seen: map[string]bool{}}
	go p.run()
	return p
}

func (p *assetProbe) run() {
	defer close(p.done)
	tick := time.NewTicker(assetProbeEvery)
	defer tick.Stop()
	for range assetProbeRounds {
		p.round()
		select {
		case <-p.stop:
			return
		case <-p.r.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (p *assetProbe) round() {
	var paths []string
	for _, v := range p.known {
		paths = append(paths, v...)
	}
	for _, h := range p.r.webHosts() {
		status, body, err := p.fetch(h, "/")
		p.mu.Lock()
		p.pages++
		p.mu.Unlock()
		if err != nil || status != http.StatusOK {
			// The page load is the request load's business; the probe
			// checks what a served page links.
			continue
		}
		for _, a := range assetRE.FindAllString(body, -1) {
			p.mu.Lock()
			p.seen[a] = true
			p.mu.Unlock()
			paths = append(paths, a)
		}
	}
	for _, h := range p.r.webHosts() {
		for _, a := range paths {
			status, _, err := p.fetch(h, a)
			p.mu.Lock()
			p.assets++
			if err != nil || status != http.StatusOK {
				p.failures = append(p.failures, fmt.Sprintf("%s %s %s: %d %v", time.Now().Format("15:04:05.000"), h.Name, a, status, err))
			}
			p.mu.Unlock()
		}
	}
}

func (p *assetProbe) fetch(h *harness.Host, path string) (int, string, error) {
	ctx, cancel := context.WithTimeout(p.r.ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.r.url(h, path), nil)
	if err != nil {
		return 0, "", err
	}
	if p.r.host != "" {
		req.Host = p.r.host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}

// finish stops the probe and fails the test on any asset that did not
// answer 200, or when no page linked an asset of each of wantLinked.
func (p *assetProbe) finish(t *testing.T, what string, wantLinked ...[]string) {
	t.Helper()
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Logf("%s: asset probe loaded %d pages and fetched %d assets: %d failed", what, p.pages, p.assets, len(p.failures))
	if p.assets == 0 {
		t.Errorf("%s: the asset probe fetched nothing", what)
	}
	if len(p.failures) > 0 {
		t.Errorf("%s: %d asset requests failed during the swap; first: %s", what, len(p.failures), strings.Join(p.failures[:min(5, len(p.failures))], "; "))
	}
	for _, paths := range wantLinked {
		if len(paths) > 0 && !p.seen[paths[0]] {
			t.Errorf("%s: no page served during the swap linked %s", what, paths[0])
		}
	}
}
