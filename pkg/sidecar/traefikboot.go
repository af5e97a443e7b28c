package sidecar

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"
)

// Traefik container tunables.
const (
	// TraefikContainer is the Traefik container's name on every host.
	TraefikContainer = traefik.DefaultContainerName
	// labelTraefikConfig holds the hash of the boot request a Traefik
	// container was created from; Boot is a no-op while it matches.
	labelTraefikConfig = "kamal.traefik.config"
	// traefikStopTimeout is the grace Traefik gets on reboot.
	traefikStopTimeout = 10 * time.Second
	// traefikStartTimeout bounds waiting for a new Traefik to run.
	traefikStartTimeout = 30 * time.Second
)

// traefikEngine is the engine calls booting Traefik needs: those of
// Containers, and the ones that replace the container.
type traefikEngine interface {
	Containers
	traefikReplacer
}

// traefikReplacer creates the Traefik container (and its network) and
// removes the one it replaces.
type traefikReplacer interface {
	Create(ctx context.Context, s docker.ContainerSpec) (string, error)
	Remove(ctx context.Context, id string, force bool) error
	NetworkEnsure(ctx context.Context, name string, labels map[string]string) (string, error)
}

// traefikBooter runs the host's Traefik container from a boot request:
// static flags and the container spec come from specFor (pkg/traefik),
// the rest (idempotence, replacement) is here.
type traefikBooter struct {
	d       traefikEngine
	network string
	specFor func(req contract.TraefikRequest) (docker.ContainerSpec, error)

	// turn admits one boot at a time. It is a channel, not a mutex, because
	// a boot makes engine calls: a second boot waits for its turn only as
	// long as its ctx allows.
	turn chan struct{}
}

func newTraefikBooter(d traefikEngine, network string, specFor func(contract.TraefikRequest) (docker.ContainerSpec, error)) *traefikBooter {
	return &traefikBooter{d: d, network: network, specFor: specFor, turn: make(chan struct{}, 1)}
}

// Boot makes the Traefik container run with req's configuration: nothing
// happens when it already does (unless reboot); otherwise the old container
// is replaced.
func (b *traefikBooter) Boot(ctx context.Context, req contract.TraefikRequest, reboot bool) (*contract.TraefikStatus, error) {
	select {
	case b.turn <- struct{}{}:
		defer func() { <-b.turn }()
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for another traefik boot: %w", ctx.Err())
	}
	cs, err := b.specFor(req)
	if err != nil {
		return nil, fmt.Errorf("build traefik container: %w", err)
	}
	cs.Name = TraefikContainer
	if cs.Network == "" {
		cs.Network = b.network
	}
	hash, err := configHash(cs)
	if err != nil {
		return nil, err
	}
	if cs.Labels == nil {
		cs.Labels = map[string]string{}
	}
	cs.Labels[labelTraefikConfig] = hash

	cur, err := b.d.Inspect(ctx, TraefikContainer)
	exists := err == nil
	if err != nil && !docker.IsNotFound(err) {
		return nil, err
	}
	if exists && !reboot && cur.Labels[labelTraefikConfig] == hash {
		if !cur.Running() {
			if err := b.d.Start(ctx, cur.ID); err != nil {
				return nil, err
			}
		}
		return status(cs, true), nil
	}
	if _, err := b.d.NetworkEnsure(ctx, cs.Network, map[string]string{"kamal": "1"}); err != nil {
		return nil, err
	}
	if exists {
		if err := b.d.Stop(ctx, cur.ID, traefikStopTimeout); err != nil && !docker.IsNotFound(err) {
			return nil, err
		}
		if err := b.d.Remove(ctx, cur.ID, true); err != nil && !docker.IsNotFound(err) {
			return nil, err
		}
	}
	id, err := b.d.Create(ctx, cs)
	if err != nil {
		return nil, err
	}
	if err := b.d.Start(ctx, id); err != nil {
		return nil, err
	}
	if err := waitRunning(ctx, b.d, id); err != nil {
		return nil, err
	}
	return status(cs, true), nil
}

// waitRunning polls until id runs (Traefik exits at once on a bad flag).
func waitRunning(ctx context.Context, d traefikEngine, id string) error {
	ctx, cancel := context.WithTimeout(ctx, traefikStartTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := d.Inspect(ctx, id)
		if err != nil {
			return err
		}
		if c.Running() && !c.StartedAt.IsZero() && time.Since(c.StartedAt) > 500*time.Millisecond {
			return nil
		}
		if !c.Running() && c.State != docker.StateCreated {
			return fmt.Errorf("traefik container %s is %s (exit code %d)", TraefikContainer, c.State, c.ExitCode)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for traefik to run: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func status(cs docker.ContainerSpec, running bool) *contract.TraefikStatus {
	return &contract.TraefikStatus{Container: cs.Name, Image: cs.Image, Running: running, Args: cs.Cmd}
}

// configHash identifies a container spec (maps sorted by encoding/json).
func configHash(cs docker.ContainerSpec) (string, error) {
	c := cs
	c.Labels = maps.Clone(cs.Labels)
	delete(c.Labels, labelTraefikConfig)
	env := slices.Clone(c.Env)
	slices.Sort(env)
	c.Env = env
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("hash traefik config: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12]), nil
}

func (s *Server) handleTraefik(reboot bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req contract.TraefikRequest
		if err := decodeRequest(r.Body, &req); err != nil {
			writeError(w, err)
			return
		}
		action := "traefik-boot"
		if reboot {
			action = "traefik-reboot"
		}
		st, err := s.deps.Traefik.Boot(r.Context(), req, reboot)
		e := contract.AuditEntry{Who: whoOr(req.Who), Action: action, What: req.Image, Result: resultOK}
		if err != nil {
			e.Result = err.Error()
		}
		s.appendAudit(e)
		if err != nil {
			writeError(w, fmt.Errorf("%s: %w", action, err))
			return
		}
		writeJSON(w, http.StatusOK, st)
	}
}
