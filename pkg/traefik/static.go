package traefik

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// Defaults of the Traefik container.
const (
	DefaultContainerName = "kamal-traefik"
	DefaultAPIPort       = 8080
	DefaultHTTPPort      = 80
	DefaultHTTPSPort     = 443
	// DefaultThrottle is providers.providersThrottleDuration: with Traefik's
	// default (2 s) a file change took about 2.1 s to be served here; with
	// 50 ms it takes 80-280 ms.
	DefaultThrottle = "50ms"
	// DynamicDirInContainer is where the dynamic directory is mounted.
	DynamicDirInContainer = "/etc/traefik/dynamic"
	// ACMEDirInContainer is where ACME storage is mounted.
	ACMEDirInContainer = "/etc/traefik/acme"
	// LabelTraefik marks the Traefik container the sidecar manages.
	LabelTraefik = "kamal.traefik"
)

// Static is the configuration of a host's Traefik container, built by the
// sidecar from a boot request (contract.TraefikRequest).
//
// Traefik's API: enabled read-only (`--api.insecure`, Traefik v3 has no write
// endpoints) with ping, on a dedicated entrypoint "traefik" at :APIPort of
// the container's own addresses, and never published on the host. Only
// containers on the Traefik container's networks (the `kamal` network: the
// sidecar, which confirms cutovers through it, and app containers) reach it;
// it shows routing configuration, never secrets or ACME keys. Binding it to
// 127.0.0.1 inside the container would hide it from the sidecar, which runs
// in its own container.
type Static struct {
	// Image is the Traefik image reference, e.g. "traefik:v3.6.12".
	Image string `json:"image"`
	// Name of the container; DefaultContainerName when empty.
	Name string `json:"name,omitempty"`
	// Network to join; contract.DefaultNetwork when empty.
	Network string `json:"network,omitempty"`
	// DynamicDir is the host directory the sidecar writes dynamic
	// configuration into, mounted read-only.
	DynamicDir string `json:"dynamicDir"`
	// ACMEDir is the host directory for ACME storage (required with ACME).
	ACMEDir string `json:"acmeDir,omitempty"`
	// HTTPPort and HTTPSPort are the published host ports of the web and
	// websecure entrypoints (80 and 443 by default; -1 to not publish).
	HTTPPort  int `json:"httpPort,omitempty"`
	HTTPSPort int `json:"httpsPort,omitempty"`
	// APIPort is the API entrypoint's port inside the container.
	APIPort int `json:"apiPort,omitempty"`
	// ACME resolvers, referenced by proxy certResolver.
	ACME []contract.ACME `json:"acme,omitempty"`
	// Args are Traefik arguments without the leading dashes (Kamal 1
	// `traefik.args`); they override the defaults of the same key. An empty
	// value is a bare flag.
	Args map[string]string `json:"args,omitempty"`
	// Options are docker run options (Kamal 1 `traefik.options`): publish,
	// volume, memory, cpus, restart, log-driver, log-opt.
	Options map[string][]string `json:"options,omitempty"`
	// Labels and Env of the container (Kamal 1 `traefik.labels`/`env`).
	Labels map[string]string `json:"labels,omitempty"`
	Env    map[string]string `json:"env,omitempty"`
	// Host holds the Kamal 2 proxy keys Traefik applies per host.
	Host *contract.HostProxy `json:"host,omitempty"`
}

func (s Static) withDefaults() Static {
	if s.Name == "" {
		s.Name = DefaultContainerName
	}
	if s.Network == "" {
		s.Network = contract.DefaultNetwork
	}
	if s.HTTPPort == 0 {
		s.HTTPPort = DefaultHTTPPort
	}
	if s.HTTPSPort == 0 {
		s.HTTPSPort = DefaultHTTPSPort
	}
	if s.APIPort == 0 {
		s.APIPort = DefaultAPIPort
	}
	return s
}

// APIURL is where the sidecar (on the same network) reaches Traefik's API.
func (s Static) APIURL() string {
	s = s.withDefaults()
	return "http://" + s.Name + ":" + strconv.Itoa(s.APIPort)
}

// CommandArgs returns Traefik's command line: the defaults, the ACME
// resolvers, then the user's Args overriding by key; sorted by key.
func (s Static) CommandArgs() ([]string, error) {
	s = s.withDefaults()
	args := map[string]string{
		"global.checkNewVersion":              "false",
		"global.sendAnonymousUsage":           "false",
		"entryPoints.web.address":             ":80",
		"entryPoints.websecure.address":       ":443",
		"entryPoints.traefik.address":         ":" + strconv.Itoa(s.APIPort),
		"api.insecure":                        "true",
		"api.dashboard":                       "false",
		"ping":                                "true",
		"ping.entryPoint":                     "traefik",
		"providers.file.directory":            DynamicDirInContainer,
		"providers.file.watch":                "true",
		"providers.providersThrottleDuration": DefaultThrottle,
	}
	for _, a := range s.ACME {
		if a.Resolver == "" || strings.ContainsAny(a.Resolver, ". =") {
			return nil, fmt.Errorf("traefik args: acme resolver name %q is invalid", a.Resolver)
		}
		if s.ACMEDir == "" {
			return nil, fmt.Errorf("traefik args: acme resolver %s needs an acmeDir for its storage", a.Resolver)
		}
		p := "certificatesResolvers." + a.Resolver + ".acme."
		args[p+"email"] = a.Email
		args[p+"storage"] = ACMEDirInContainer + "/" + a.Resolver + ".json"
		switch a.Challenge {
		case "", "http":
			args[p+"httpChallenge.entryPoint"] = contract.EntryPointWeb
		case "tls":
			args[p+"tlsChallenge"] = "true"
		default:
			return nil, fmt.Errorf("traefik args: acme resolver %s: challenge %q must be http or tls", a.Resolver, a.Challenge)
		}
		if a.CAServer != "" {
			args[p+"caServer"] = a.CAServer
		}
		if a.CACertificates != "" {
			args[p+"caCertificates"] = ACMEDirInContainer + "/" + ACMECAFile(a)
		}
	}
	hostArgs(s.Host, args)
	// Traefik's flags are case-insensitive; let a user key replace ours
	// whatever its case.
	lower := map[string]string{}
	for k := range args {
		lower[strings.ToLower(k)] = k
	}
	for k, v := range s.Args {
		k = strings.TrimLeft(k, "-")
		if k == "" || strings.ContainsAny(k, " =") {
			return nil, fmt.Errorf("traefik args: invalid key %q", k)
		}
		if old, ok := lower[strings.ToLower(k)]; ok {
			delete(args, old)
		}
		args[k] = v
	}
	out := make([]string, 0, len(args))
	for _, k := range slices.Sorted(maps.Keys(args)) {
		if args[k] == "" {
			out = append(out, "--"+k)
		} else {
			out = append(out, "--"+k+"="+args[k])
		}
	}
	return out, nil
}

// ContainerSpec is the docker create request of the Traefik container.
func (s Static) ContainerSpec() (docker.ContainerSpec, error) {
	s = s.withDefaults()
	if s.Image == "" || s.DynamicDir == "" {
		return docker.ContainerSpec{}, fmt.Errorf("traefik container: image and dynamicDir are required")
	}
	cmd, err := s.CommandArgs()
	if err != nil {
		return docker.ContainerSpec{}, err
	}
	labels := map[string]string{}
	maps.Copy(labels, s.Labels)
	labels[LabelTraefik] = "true"
	cs := docker.ContainerSpec{
		Name:    s.Name,
		Image:   s.Image,
		Cmd:     cmd,
		Labels:  labels,
		Network: s.Network,
		Restart: "unless-stopped",
		Volumes: []string{s.DynamicDir + ":" + DynamicDirInContainer + ":ro"},
	}
	if s.ACMEDir != "" {
		cs.Volumes = append(cs.Volumes, s.ACMEDir+":"+ACMEDirInContainer)
	}
	if s.HTTPPort > 0 {
		cs.Ports = append(cs.Ports, publish(s.Host, s.HTTPPort, 80)...)
	}
	if s.HTTPSPort > 0 {
		cs.Ports = append(cs.Ports, publish(s.Host, s.HTTPSPort, 443)...)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		cs.Env = append(cs.Env, k+"="+s.Env[k])
	}
	for _, k := range slices.Sorted(maps.Keys(s.Options)) {
		vs := s.Options[k]
		switch strings.TrimLeft(k, "-") {
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
			for _, kv := range vs {
				lk, lv, ok := strings.Cut(kv, "=")
				if !ok {
					return docker.ContainerSpec{}, fmt.Errorf("traefik container: log-opt %q is not key=value", kv)
				}
				cs.LogOpts[lk] = lv
			}
		default:
			return docker.ContainerSpec{}, fmt.Errorf("traefik container: option %q is not supported (publish, volume, memory, cpus, restart, log-driver, log-opt)", k)
		}
	}
	return cs, nil
}

// ACMECAFile is the name, in the ACME directory, of resolver a's CA bundle
// (contract.ACME.CACertificates). It carries a hash of the bundle so that a
// new bundle changes Traefik's command line, and so its container.
func ACMECAFile(a contract.ACME) string {
	sum := sha256.Sum256([]byte(a.CACertificates))
	return a.Resolver + "-ca-" + hex.EncodeToString(sum[:6]) + ".pem"
}

func last(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}
