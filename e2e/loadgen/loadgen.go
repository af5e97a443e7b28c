// Package loadgen sends HTTP requests at a fixed rate, over a mix of
// keep-alive and fresh connections, and records what every request got:
// status, the X-App-Version header, latency and transport error. It exists to
// prove zero-downtime claims, so it only targets loopback addresses or
// addresses the caller explicitly allows (the harness hosts' subnet).
package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"
)

// Defaults.
const (
	DefaultRate        = 50.0
	DefaultFreshRatio  = 0.5
	DefaultTimeout     = 10 * time.Second
	DefaultMaxInFlight = 256
	// MaxDuration and MaxCount bound every run, whatever the config says.
	MaxDuration = 30 * time.Minute
	MaxCount    = 1_000_000
)

// ErrTargetNotAllowed is returned for a URL whose host is not a loopback
// address or inside Config.Allow.
var ErrTargetNotAllowed = errors.New("loadgen: target not allowed (only loopback or the harness hosts)")

// Config describes a run. A run stops at Duration or after Count requests,
// whichever comes first (at least one of them must be set), or when its
// context ends.
type Config struct {
	// URL is the target; its host must be an IP address or "localhost".
	URL string
	// Host, when set, is sent as the Host header (for Traefik routing rules).
	Host string
	// Rate is requests per second (default DefaultRate).
	Rate float64
	// Duration bounds the run in time.
	Duration time.Duration
	// Count bounds the run in requests.
	Count int
	// FreshRatio is the share of requests sent on a new connection that is
	// closed afterwards; the rest reuse keep-alive connections. 0 means
	// DefaultFreshRatio; a negative value means none.
	FreshRatio float64
	// Timeout bounds each request (default DefaultTimeout).
	Timeout time.Duration
	// MaxInFlight caps concurrent requests; when reached, sending waits
	// (and the actual rate drops, which the summary shows).
	MaxInFlight int
	// Allow lists prefixes besides loopback that may be targeted.
	Allow []netip.Prefix
	// TLS is the client configuration for https URLs (RootCAs, and
	// ServerName when the URL's host is an address); nil uses Go's default.
	TLS *tls.Config
}

// Result is what one request got.
type Result struct {
	// Seq is the request's number, from 0.
	Seq int `json:"seq"`
	// Start is when the request was sent.
	Start time.Time `json:"start"`
	// Latency is the time to the end of the response body (or the error).
	Latency time.Duration `json:"latency_ns"`
	// Status is the HTTP status, 0 on a transport error.
	Status int `json:"status"`
	// Version is the X-App-Version response header.
	Version string `json:"version,omitempty"`
	// Err is the transport error, if any.
	Err string `json:"error,omitempty"`
	// Fresh is true when the request used a new connection.
	Fresh bool `json:"fresh"`
}

// OK reports whether the request got a 2xx response without error.
func (r Result) OK() bool { return r.Err == "" && r.Status >= 200 && r.Status < 300 }

// CheckTarget returns ErrTargetNotAllowed (wrapped) unless rawURL is http(s)
// to a loopback address or "localhost", or to an address inside allow.
func CheckTarget(rawURL string, allow []netip.Prefix) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("loadgen: parse url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("loadgen: url %q: want http or https", rawURL)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address", ErrTargetNotAllowed, host)
	}
	addr = addr.Unmap()
	if addr.IsLoopback() {
		return nil
	}
	for _, p := range allow {
		if p.Contains(addr) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrTargetNotAllowed, addr)
}

// Run sends the load and returns the report when the run ends.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	g, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return g.Wait(), nil
}

// Generator is a run in progress.
type Generator struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}
	report *Report

	servedMu sync.Mutex
	served   map[string]int // 2xx responses by version so far
}

// Start validates cfg and starts sending in the background.
func Start(ctx context.Context, cfg Config) (*Generator, error) {
	if err := CheckTarget(cfg.URL, cfg.Allow); err != nil {
		return nil, err
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Rate < 0 || cfg.Rate > 10000 {
		return nil, fmt.Errorf("loadgen: rate %v: want 0 < rate <= 10000", cfg.Rate)
	}
	if cfg.Duration <= 0 && cfg.Count <= 0 {
		return nil, errors.New("loadgen: set Duration or Count")
	}
	if cfg.Duration <= 0 || cfg.Duration > MaxDuration {
		cfg.Duration = MaxDuration
	}
	if cfg.Count <= 0 || cfg.Count > MaxCount {
		cfg.Count = MaxCount
	}
	if cfg.FreshRatio == 0 {
		cfg.FreshRatio = DefaultFreshRatio
	}
	if cfg.FreshRatio < 0 {
		cfg.FreshRatio = 0
	}
	if cfg.FreshRatio > 1 {
		cfg.FreshRatio = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	g := &Generator{cfg: cfg, cancel: cancel, done: make(chan struct{}), served: map[string]int{}}
	go g.run(ctx)
	return g, nil
}

// Stop ends the run early and returns its report.
func (g *Generator) Stop() *Report {
	g.cancel()
	return g.Wait()
}

// Served is how many 2xx responses carried version so far, while the run
// goes on: tests wait on it instead of guessing how long load must last.
func (g *Generator) Served(version string) int {
	g.servedMu.Lock()
	defer g.servedMu.Unlock()
	return g.served[version]
}

// Wait waits for the run to end (duration, count or context) and returns
// its report. In-flight requests are awaited (each bounded by Timeout).
func (g *Generator) Wait() *Report {
	<-g.done
	return g.report
}

func (g *Generator) run(ctx context.Context) {
	defer close(g.done)
	defer g.cancel()
	cfg := g.cfg
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	keep := &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: cfg.MaxInFlight, IdleConnTimeout: 30 * time.Second,
		TLSClientConfig: cfg.TLS.Clone()}
	fresh := &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true, TLSClientConfig: cfg.TLS.Clone()}
	defer keep.CloseIdleConnections()
	clients := [2]*http.Client{
		{Transport: keep, Timeout: cfg.Timeout},
		{Transport: fresh, Timeout: cfg.Timeout},
	}

	var (
		mu      sync.Mutex
		results []Result
		wg      sync.WaitGroup
		sem     = make(chan struct{}, cfg.MaxInFlight)
	)
	start := time.Now()
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	timer := time.NewTimer(0)
	defer timer.Stop()
loop:
	for i := 0; i < cfg.Count; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				break loop
			case <-timer.C:
			}
		}
		select {
		case <-ctx.Done():
			break loop
		case sem <- struct{}{}:
		}
		isFresh := int(float64(i+1)*cfg.FreshRatio) > int(float64(i)*cfg.FreshRatio)
		c := clients[0]
		if isFresh {
			c = clients[1]
		}
		wg.Add(1)
		go func(seq int) {
			defer wg.Done()
			defer func() { <-sem }()
			r := do(c, cfg, seq, isFresh)
			if r.OK() {
				g.servedMu.Lock()
				g.served[r.Version]++
				g.servedMu.Unlock()
			}
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	g.report = newReport(cfg, start, time.Now(), results)
}

// do sends one request. It does not use the run's context, so a request in
// flight when the run ends still completes (bounded by Timeout).
func do(c *http.Client, cfg Config, seq int, fresh bool) Result {
	r := Result{Seq: seq, Start: time.Now(), Fresh: fresh}
	req, err := http.NewRequest(http.MethodGet, cfg.URL, nil)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	if cfg.Host != "" {
		req.Host = cfg.Host
	}
	resp, err := c.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		r.Status = resp.StatusCode
		r.Version = resp.Header.Get("X-App-Version")
	}
	r.Latency = time.Since(r.Start)
	if err != nil {
		r.Err = err.Error()
	}
	return r
}
