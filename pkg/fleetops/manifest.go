package fleetops

// The registry's manifest of the app image, read only for its layer sizes,
// so the per-host pull lines can tell bytes. Everything here is best
// effort: a registry that cannot be read leaves the sizes unknown.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// manifestTimeout bounds the whole manifest read (token included).
const manifestTimeout = 20 * time.Second

// manifestAccept are the single-image manifest types; a list (multi
// platform) is not followed, its sizes stay unknown.
var manifestAccept = []string{
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
}

// imageName splits a reference "host[:port]/repo:tag" into the registry
// host ("" for Docker Hub), repository and tag.
func imageName(ref string) (host, repo, tag string) {
	repo, tag = ref, "latest"
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		repo, tag = ref[:i], ref[i+1:]
	}
	if first, rest, ok := strings.Cut(repo, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first, rest, tag
	}
	if !strings.Contains(repo, "/") {
		repo = "library/" + repo
	}
	return "", repo, tag
}

// loopback reports a registry host on the loopback interface, which Docker
// reaches over plain HTTP.
func loopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// fetchLayerSizes reads image's manifest from the registry with reg's
// credentials and returns the compressed layer sizes by short layer ID.
func fetchLayerSizes(ctx context.Context, client *http.Client, reg *spec.Registry, image string) (map[string]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, manifestTimeout)
	defer cancel()
	host, repo, tag := imageName(image)
	base := "https://" + host
	switch {
	case host == "":
		base = "https://registry-1.docker.io"
	case loopback(host):
		base = "http://" + host
	}
	u := base + "/v2/" + repo + "/manifests/" + url.PathEscape(tag)
	body, err := getManifest(ctx, client, reg, u, "")
	var ch *challenge
	if errors.As(err, &ch) && ch.scheme == "bearer" {
		token, terr := fetchToken(ctx, client, reg, ch)
		if terr != nil {
			return nil, terr
		}
		body, err = getManifest(ctx, client, reg, u, token)
	}
	if err != nil {
		return nil, err
	}
	sizes := parseManifestLayers(body)
	if sizes == nil {
		return nil, errors.New("read manifest: no layers (a multi-platform list?)")
	}
	return sizes, nil
}

// challenge is a 401's WWW-Authenticate.
type challenge struct {
	scheme string            // "basic" or "bearer"
	params map[string]string // realm, service, scope
}

func (c *challenge) Error() string { return "registry asks for " + c.scheme + " authentication" }

// getManifest GETs u with a bearer token, or basic credentials when token
// is empty. A 401 with a bearer challenge is returned as *challenge.
func getManifest(ctx context.Context, client *http.Client, reg *spec.Registry, u, token string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", strings.Join(manifestAccept, ", "))
	switch {
	case token != "":
		req.Header.Set("Authorization", "Bearer "+token)
	case reg != nil && reg.Username != "" && reg.Password != "":
		req.SetBasicAuth(reg.Username, reg.Password)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get manifest: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // a response body's close has nothing to report
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if resp.StatusCode == http.StatusUnauthorized && token == "" {
		if ch := parseChallenge(resp.Header.Get("WWW-Authenticate")); ch != nil && ch.scheme == "bearer" {
			return nil, ch
		}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get manifest: %s", resp.Status)
	}
	return body, nil
}

// parseChallenge reads `Bearer realm="...",service="...",scope="..."`.
func parseChallenge(h string) *challenge {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if scheme == "" {
		return nil
	}
	c := &challenge{scheme: strings.ToLower(scheme), params: map[string]string{}}
	for rest != "" {
		var kv string
		// Values are quoted and may hold commas (scopes do).
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			break
		}
		key := strings.ToLower(strings.TrimSpace(strings.TrimLeft(rest[:eq], ", ")))
		rest = rest[eq+1:]
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				break
			}
			kv, rest = rest[1:end+1], rest[end+2:]
		} else {
			kv, rest, _ = strings.Cut(rest, ",")
		}
		c.params[key] = kv
	}
	return c
}

// fetchToken gets a bearer token for the challenge, with the credentials
// when there are some.
func fetchToken(ctx context.Context, client *http.Client, reg *spec.Registry, ch *challenge) (string, error) {
	realm := ch.params["realm"]
	if realm == "" {
		return "", errors.New("get registry token: challenge without realm")
	}
	q := url.Values{}
	for _, k := range []string{"service", "scope"} {
		if v := ch.params[k]; v != "" {
			q.Set(k, v)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm+"?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("get registry token: %w", err)
	}
	if reg != nil && reg.Username != "" && reg.Password != "" {
		req.SetBasicAuth(reg.Username, reg.Password)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("get registry token: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // a response body's close has nothing to report
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("get registry token: %s", resp.Status)
	}
	var t struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&t); err != nil {
		return "", fmt.Errorf("get registry token: %w", err)
	}
	if t.Token == "" {
		t.Token = t.AccessToken
	}
	if t.Token == "" {
		return "", errors.New("get registry token: empty token")
	}
	return t.Token, nil
}

// parseManifestLayers maps short layer IDs (the 12 hex digits `docker
// push` and `docker pull` print) to compressed sizes, from a single-image
// manifest (Docker v2 or OCI). Nil when it has none.
func parseManifestLayers(b []byte) map[string]int64 {
	var m struct {
		Layers []struct {
			Size   int64  `json:"size"`
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil
	}
	sizes := map[string]int64{}
	for _, l := range m.Layers {
		hex := strings.TrimPrefix(l.Digest, "sha256:")
		if len(hex) >= 12 && l.Size > 0 {
			sizes[hex[:12]] = l.Size
		}
	}
	if len(sizes) == 0 {
		return nil
	}
	return sizes
}
