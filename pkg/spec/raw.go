package spec

// The raw shapes of deploy.yml, Kamal 1 and Kamal 2 keys together, as they
// are written. The loader decodes into these strictly, then normalises into
// Config.

import (
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

type rawConfig struct {
	Service            string                `kamal:"service"`
	Image              string                `kamal:"image"`
	Labels             map[string]string     `kamal:"labels"`
	Volumes            []string              `kamal:"volumes"`
	Registry           *yaml.Node            `kamal:"registry"`
	Servers            *yaml.Node            `kamal:"servers"`
	Env                *yaml.Node            `kamal:"env"`
	AssetPath          string                `kamal:"asset_path"`
	HooksPath          string                `kamal:"hooks_path"`
	HooksOutput        *yaml.Node            `kamal:"hooks_output"`
	SecretsPath        string                `kamal:"secrets_path"`
	ErrorPagesPath     string                `kamal:"error_pages_path"`
	RequireDestination bool                  `kamal:"require_destination"`
	PrimaryRole        string                `kamal:"primary_role"`
	AllowEmptyRoles    bool                  `kamal:"allow_empty_roles"`
	RetainContainers   *int                  `kamal:"retain_containers"`
	MinimumVersion     string                `kamal:"minimum_version"`
	ReadinessDelay     *contract.Duration    `kamal:"readiness_delay"`
	DeployTimeout      *contract.Duration    `kamal:"deploy_timeout"`
	DrainTimeout       *contract.Duration    `kamal:"drain_timeout"`
	StopTimeout        *contract.Duration    `kamal:"stop_timeout"`
	RunDirectory       string                `kamal:"run_directory"`
	SSH                *rawSSH               `kamal:"ssh"`
	Builder            *rawBuilder           `kamal:"builder"`
	Accessories        map[string]*yaml.Node `kamal:"accessories"`
	Proxy              *yaml.Node            `kamal:"proxy"`
	SSHKit             *SSHKit               `kamal:"sshkit"`
	Boot               *rawBoot              `kamal:"boot"`
	Logging            *yaml.Node            `kamal:"logging"`
	Output             *rawOutput            `kamal:"output"`
	Aliases            map[string]string     `kamal:"aliases"`

	// Kamal 1.
	Traefik      *rawTraefik        `kamal:"traefik"`
	Healthcheck  *yaml.Node         `kamal:"healthcheck"`
	StopWaitTime *contract.Duration `kamal:"stop_wait_time"`

	// Extensions.
	Migrations *rawMigrations `kamal:"migrations"`
	Sidecar    *rawSidecar    `kamal:"sidecar"`
	ACME       *yaml.Node     `kamal:"acme"`
}

type rawRegistry struct {
	Server   string     `kamal:"server"`
	Username *yaml.Node `kamal:"username"`
	Password *yaml.Node `kamal:"password"`
}

type rawRole struct {
	Hosts       *yaml.Node         `kamal:"hosts"`
	Cmd         string             `kamal:"cmd"`
	Options     roleOptions        `kamal:"options"`
	Labels      map[string]string  `kamal:"labels"`
	Env         *yaml.Node         `kamal:"env"`
	Logging     *yaml.Node         `kamal:"logging"`
	Proxy       *yaml.Node         `kamal:"proxy"`
	StopTimeout *contract.Duration `kamal:"stop_timeout"`
	AssetPath   string             `kamal:"asset_path"`
	// Kamal 1.
	Traefik     *yaml.Node `kamal:"traefik"`
	Healthcheck *yaml.Node `kamal:"healthcheck"`
}

type rawProxy struct {
	Host            string            `kamal:"host"`
	Hosts           []string          `kamal:"hosts"`
	AppPort         *int              `kamal:"app_port"`
	SSL             *yaml.Node        `kamal:"ssl"`
	SSLRedirect     *bool             `kamal:"ssl_redirect"`
	ForwardHeaders  *bool             `kamal:"forward_headers"`
	ResponseTimeout contract.Duration `kamal:"response_timeout"`
	PathPrefix      string            `kamal:"path_prefix"`
	PathPrefixes    []string          `kamal:"path_prefixes"`
	StripPathPrefix *bool             `kamal:"strip_path_prefix"`
	Healthcheck     *rawProxyHealth   `kamal:"healthcheck"`
	Buffering       *ProxyBuffering   `kamal:"buffering"`
	Logging         *ProxyLogging     `kamal:"logging"`
	Run             *rawProxyRun      `kamal:"run"`
}

type rawProxyHealth struct {
	Path     string            `kamal:"path"`
	Interval contract.Duration `kamal:"interval"`
	Timeout  contract.Duration `kamal:"timeout"`
}

type rawProxyRun struct {
	HTTPPort    int      `kamal:"http_port"`
	HTTPSPort   int      `kamal:"https_port"`
	MetricsPort int      `kamal:"metrics_port"`
	Debug       *bool    `kamal:"debug"`
	LogMaxSize  string   `kamal:"log_max_size"`
	Publish     *bool    `kamal:"publish"`
	BindIPs     []string `kamal:"bind_ips"`
	Registry    string   `kamal:"registry"`
	Repository  string   `kamal:"repository"`
	Version     string   `kamal:"version"`
	Options     options  `kamal:"options"`
}

type rawSSL struct {
	CertificatePEM string `kamal:"certificate_pem"`
	PrivateKeyPEM  string `kamal:"private_key_pem"`
}

type rawLogging struct {
	Driver  string            `kamal:"driver"`
	Options map[string]string `kamal:"options"`
}

type rawHealthcheck struct {
	Cmd         string             `kamal:"cmd"`
	Path        string             `kamal:"path"`
	Port        *int               `kamal:"port"`
	Interval    *contract.Duration `kamal:"interval"`
	MaxAttempts *int               `kamal:"max_attempts"`
	Cord        *yaml.Node         `kamal:"cord"`
	LogLines    *int               `kamal:"log_lines"`
}

type rawEnv struct {
	Clear  map[string]string     `kamal:"clear"`
	Secret []string              `kamal:"secret"`
	Tags   map[string]*yaml.Node `kamal:"tags"`
}

type rawAccessory struct {
	Service     string            `kamal:"service"`
	Image       string            `kamal:"image"`
	Registry    *yaml.Node        `kamal:"registry"`
	Host        string            `kamal:"host"`
	Hosts       []string          `kamal:"hosts"`
	Role        string            `kamal:"role"`
	Roles       []string          `kamal:"roles"`
	Tag         string            `kamal:"tag"`
	Tags        []string          `kamal:"tags"`
	Cmd         string            `kamal:"cmd"`
	Port        string            `kamal:"port"`
	Labels      map[string]string `kamal:"labels"`
	Options     options           `kamal:"options"`
	Env         *yaml.Node        `kamal:"env"`
	Files       []rawMount        `kamal:"files"`
	Directories []rawMount        `kamal:"directories"`
	Volumes     []string          `kamal:"volumes"`
	Network     string            `kamal:"network"`
	Proxy       *yaml.Node        `kamal:"proxy"`
}

// rawMount is `local:remote[:options]` or {local, remote, mode, owner, options}.
type rawMount Mount

func (m *rawMount) unmarshalNode(d *decoder, n *yaml.Node, path string) error {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		parts := strings.SplitN(n.Value, ":", 3)
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return d.t.errAt(n, path, "must be local:remote[:options], got %q", n.Value)
		}
		m.Local, m.Remote = parts[0], parts[1]
		if len(parts) == 3 {
			m.Options = parts[2]
		}
		return nil
	}
	var v struct {
		Local   string `kamal:"local"`
		Remote  string `kamal:"remote"`
		Mode    string `kamal:"mode"`
		Owner   string `kamal:"owner"`
		Options string `kamal:"options"`
	}
	if err := d.decodeStruct(n, path, reflectValue(&v)); err != nil {
		return err
	}
	if v.Local == "" || v.Remote == "" {
		return d.t.errAt(n, path, "needs local and remote")
	}
	*m = rawMount(v)
	return nil
}

type rawBoot struct {
	Limit         *yaml.Node        `kamal:"limit"`
	Wait          contract.Duration `kamal:"wait"`
	ParallelRoles *bool             `kamal:"parallel_roles"`
}

type rawBuilder struct {
	Arch       stringOrList      `kamal:"arch"`
	Remote     *yaml.Node        `kamal:"remote"`
	Local      *yaml.Node        `kamal:"local"`
	Driver     string            `kamal:"driver"`
	Context    string            `kamal:"context"`
	Dockerfile string            `kamal:"dockerfile"`
	Target     string            `kamal:"target"`
	Args       map[string]string `kamal:"args"`
	Secrets    []string          `kamal:"secrets"`
	SSH        string            `kamal:"ssh"`
	Cache      *BuilderCache     `kamal:"cache"`
	Pack       *BuilderPack      `kamal:"pack"`
	Provenance string            `kamal:"provenance"`
	SBOM       string            `kamal:"sbom"`
	Multiarch  *bool             `kamal:"multiarch"`
}

// rawBuilderHost is Kamal 1's builder.local / builder.remote mapping.
type rawBuilderHost struct {
	Arch string `kamal:"arch"`
	Host string `kamal:"host"`
}

type rawSSH struct {
	User         string     `kamal:"user"`
	Port         *int       `kamal:"port"`
	Proxy        string     `kamal:"proxy"`
	ProxyCommand string     `kamal:"proxy_command"`
	LogLevel     string     `kamal:"log_level"`
	KeysOnly     bool       `kamal:"keys_only"`
	Keys         []string   `kamal:"keys"`
	KeyData      []string   `kamal:"key_data"`
	Config       *yaml.Node `kamal:"config"`
	ForwardAgent *bool      `kamal:"forward_agent"`
}

type rawOutput struct {
	OTel *struct {
		Endpoint string `kamal:"endpoint"`
	} `kamal:"otel"`
	File *struct {
		Path string `kamal:"path"`
	} `kamal:"file"`
}

type rawTraefik struct {
	Image    string            `kamal:"image"`
	HostPort string            `kamal:"host_port"`
	Publish  *bool             `kamal:"publish"`
	Labels   map[string]string `kamal:"labels"`
	Args     map[string]string `kamal:"args"`
	Options  options           `kamal:"options"`
	Env      *yaml.Node        `kamal:"env"`
}

type rawMigrations struct {
	Cmd     string            `kamal:"cmd"`
	Timeout contract.Duration `kamal:"timeout"`
}

type rawSidecar struct {
	Monitor  string             `kamal:"monitor"`
	KeepWarm *contract.Duration `kamal:"keep_warm"`
}
