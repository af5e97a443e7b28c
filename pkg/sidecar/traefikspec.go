package sidecar

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarapi"
)

// Traefik static configuration defaults.
const (
	// traefikDynamicDir is where Traefik's file provider reads, inside its
	// container; the sidecar writes the same directory under its state dir.
	traefikDynamicDir = "/etc/traefik/dynamic"
	// traefikACMEDir holds ACME storage inside the Traefik container.
	traefikACMEDir = "/etc/traefik/acme"
	// TraefikAPIPort is the API's port on the kamal network (never
	// published on the host).
	TraefikAPIPort = 8080
	// traefikThrottle makes a config change serve in ~100 ms instead of
	// ~2 s (DESIGN: measured 80-280 ms at 50 ms).
	traefikThrottle = "50ms"
)

// TraefikDynamicDir is the directory, under the sidecar's state dir, that
// the sidecar writes and Traefik watches. Because the sidecar container
// mounts the state dir at the same path as on the host, it is also the
// host path Traefik's container mounts.
func TraefikDynamicDir(stateDir string) string { return filepath.Join(stateDir, "traefik", "dynamic") }

// TraefikAPI is the base URL of Traefik's API as the sidecar reaches it on
// the kamal network.
func TraefikAPI() string { return "http://" + TraefikContainer + ":" + strconv.Itoa(TraefikAPIPort) }

// traefikContainerSpec builds the Traefik container for a boot request:
// entrypoints web (:80) and websecure (:443), a watched file provider on
// the sidecar's directory with a short throttle, the API on an internal
// entrypoint, the ACME resolver, and the request's args, options, labels
// and env (Kamal 1 traefik: section).
func traefikContainerSpec(stateDir, network string, req sidecarapi.TraefikRequest) (docker.ContainerSpec, error) {
	flags := map[string]string{
		"global.checkNewVersion":              "false",
		"global.sendAnonymousUsage":           "false",
		"entrypoints.web.address":             ":80",
		"entrypoints.traefik.address":         ":" + strconv.Itoa(TraefikAPIPort),
		"api":                                 "true",
		"api.insecure":                        "true",
		"api.dashboard":                       "false",
		"ping":                                "true",
		"providers.file.directory":            traefikDynamicDir,
		"providers.file.watch":                "true",
		"providers.providersThrottleDuration": traefikThrottle,
		"log.level":                           "INFO",
	}
	httpPort, httpsPort := req.HTTPPort, req.HTTPSPort
	if httpPort == 0 {
		httpPort = 80
	}
	if httpsPort == 0 {
		httpsPort = 443
	}
	if httpsPort > 0 {
		flags["entrypoints.websecure.address"] = ":443"
	}
	cs := docker.ContainerSpec{
		Name:    TraefikContainer,
		Image:   req.Image,
		Network: network,
		Restart: "unless-stopped",
		Labels:  maps.Clone(req.Labels),
		Env:     envList(req.Env),
		Volumes: []string{TraefikDynamicDir(stateDir) + ":" + traefikDynamicDir + ":ro"},
	}
	if cs.Labels == nil {
		cs.Labels = map[string]string{}
	}
	cs.Labels["kamal.traefik"] = "1"
	if httpPort > 0 {
		cs.Ports = append(cs.Ports, strconv.Itoa(httpPort)+":80")
	}
	if httpsPort > 0 {
		cs.Ports = append(cs.Ports, strconv.Itoa(httpsPort)+":443")
	}
	if a := req.ACME; a != nil {
		p := "certificatesresolvers." + a.Resolver + ".acme."
		flags[p+"email"] = a.Email
		flags[p+"storage"] = traefikACMEDir + "/acme.json"
		if a.CAServer != "" {
			flags[p+"caserver"] = a.CAServer
		}
		if a.Challenge == "tls" {
			flags[p+"tlschallenge"] = "true"
		} else {
			flags[p+"httpchallenge"] = "true"
			flags[p+"httpchallenge.entrypoint"] = "web"
		}
		cs.Volumes = append(cs.Volumes, filepath.Join(stateDir, "traefik", "acme")+":"+traefikACMEDir)
	}
	for k, v := range req.Args {
		flags[k] = v
	}
	if err := applyTraefikOptions(&cs, req.Options); err != nil {
		return cs, err
	}
	for _, k := range slices.Sorted(maps.Keys(flags)) {
		cs.Cmd = append(cs.Cmd, "--"+k+"="+flags[k])
	}
	return cs, nil
}

// applyTraefikOptions maps Kamal 1 traefik.options onto the container.
func applyTraefikOptions(cs *docker.ContainerSpec, opts map[string][]string) error {
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		vs := opts[k]
		switch k {
		case "publish", "p":
			cs.Ports = append(cs.Ports, vs...)
		case "volume", "v":
			cs.Volumes = append(cs.Volumes, vs...)
		case "memory", "m":
			cs.Memory = last(vs)
		case "cpus":
			cs.CPUs = last(vs)
		case "restart":
			cs.Restart = last(vs)
		case "log-driver":
			cs.LogDriver = last(vs)
		case "log-opt":
			if cs.LogOpts == nil {
				cs.LogOpts = map[string]string{}
			}
			for _, v := range vs {
				key, val, ok := strings.Cut(v, "=")
				if !ok {
					return fmt.Errorf("traefik option log-opt %q: want key=value", v)
				}
				cs.LogOpts[key] = val
			}
		default:
			return fmt.Errorf("traefik option %q is not supported (publish, volume, memory, cpus, restart, log-driver, log-opt)", k)
		}
	}
	return nil
}

func last(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}
