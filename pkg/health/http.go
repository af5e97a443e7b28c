package health

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// HTTP probes with a GET; any 2xx status is healthy. Redirects are not
// followed (a 3xx is a failure), and connections are not reused between
// attempts, so each attempt sees the container as a new client would.
type HTTP struct {
	// URL to GET, e.g. "http://172.18.0.5:3000/up".
	URL string
	// Host, when set, is sent as the Host header.
	Host string
	// Client overrides the default client (tests).
	Client *http.Client
}

var defaultHTTPClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

func (h HTTP) String() string { return "http GET " + h.URL }

// Check makes one GET.
func (h HTTP) Check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return Permanent(fmt.Errorf("build request: %w", err))
	}
	if h.Host != "" {
		req.Host = h.Host
	}
	req.Header.Set("User-Agent", "kamal-sidecar-health")
	c := h.Client
	if c == nil {
		c = defaultHTTPClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	// The body is read below as far as it matters: closing it cannot fail
	// the probe.
	defer func() { _ = resp.Body.Close() }()
	// The body is only the failure's reason: a short read leaves it shorter.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxReason))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	msg := fmt.Sprintf("status %s", resp.Status)
	if b := strings.TrimSpace(string(body)); b != "" {
		msg += ": " + b
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		msg += " (Location: " + loc + ")"
	}
	return fmt.Errorf("%s", msg)
}
