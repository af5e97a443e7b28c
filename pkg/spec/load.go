package spec

// Load: read config/deploy.yml (and the destination file), render its ERB,
// parse it into one merged node tree and hand it to the normaliser.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

// DefaultConfigFile is where Kamal keeps the config.
const DefaultConfigFile = "config/deploy.yml"

// KamalCompatVersion is the Kamal version whose config this build reads;
// minimum_version above it is refused.
const KamalCompatVersion = "2.12.0"

// maxConfigSize bounds a config file.
const maxConfigSize = 4 << 20

// LoadOptions say where the config is and what the loader may see.
type LoadOptions struct {
	// ConfigFile defaults to DefaultConfigFile, relative to Dir.
	ConfigFile string
	// Destination is `-d`: config/deploy.<dest>.yml is merged over the base
	// and .kamal/secrets.<dest> is read instead of .kamal/secrets.
	Destination string
	// Dir is the app root (where .kamal/ lives); default the working dir.
	Dir string
	// Env looks up process environment variables (ERB ENV, secrets
	// substitution, secrets fallback); default os.LookupEnv.
	Env func(string) (string, bool)
	// Arch is the local Docker arch for Kamal::Utils.docker_arch in ERB;
	// default from runtime.GOARCH.
	Arch string
	// RunCommand runs $(command) substitutions of secrets files; default sh.
	RunCommand func(ctx context.Context, command string, env []string) (string, error)
	// CommandTimeout bounds each secrets command.
	CommandTimeout time.Duration
	// NoSecretsFiles skips reading .kamal/secrets*; secrets then come from
	// Env only (used by fuzzing and tests).
	NoSecretsFiles bool
}

func (o *LoadOptions) defaults() {
	if o.ConfigFile == "" {
		o.ConfigFile = DefaultConfigFile
	}
	if o.Env == nil {
		o.Env = os.LookupEnv
	}
	o.Env = withKamalEnv(o.Env, o.Destination)
	if o.Arch == "" {
		o.Arch = localArch()
	}
}

// localArch is Kamal::Utils.docker_arch: the Docker arch of this machine as
// Kamal names it (only amd64 and arm64 exist for it).
func localArch() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "amd64"
}

// Load reads, validates and normalises the config.
func Load(ctx context.Context, opts LoadOptions) (*Config, error) {
	opts.defaults()
	if opts.Destination != "" && !contract.ValidName(opts.Destination) {
		return nil, &Error{Msg: fmt.Sprintf("destination %q must match %s", opts.Destination, contract.NamePattern)}
	}
	if err := withKamal1Env(ctx, &opts); err != nil {
		return nil, err
	}
	t := newTree()
	files := []string{opts.ConfigFile}
	if opts.Destination != "" {
		files = append(files, destinationFile(opts.ConfigFile, opts.Destination))
	}
	var root *yaml.Node
	for i, f := range files {
		data, err := readConfigFile(opts.Dir, f)
		if err != nil {
			if i > 0 && errors.Is(err, fs.ErrNotExist) {
				return nil, &Error{File: f, Msg: fmt.Sprintf("config for destination %q not found", opts.Destination)}
			}
			return nil, &Error{File: f, Msg: "read config: " + errText(err)}
		}
		n, err := parseFile(t, f, data, opts)
		if err != nil {
			return nil, err
		}
		root = t.deepMerge(root, n)
	}
	return build(ctx, t, root, files, opts)
}

// LoadBytes loads a config given as bytes (no destination file).
func LoadBytes(ctx context.Context, name string, data []byte, opts LoadOptions) (*Config, error) {
	opts.defaults()
	t := newTree()
	root, err := parseFile(t, name, data, opts)
	if err != nil {
		return nil, err
	}
	return build(ctx, t, root, []string{name}, opts)
}

func parseFile(t *tree, name string, data []byte, opts LoadOptions) (*yaml.Node, error) {
	if len(data) > maxConfigSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("larger than %d bytes", maxConfigSize)}
	}
	rendered, err := renderERB(name, data, erbEnv{lookup: opts.Env, arch: opts.Arch})
	if err != nil {
		return nil, err
	}
	return t.parseYAML(name, rendered)
}

// destinationFile maps config/deploy.yml to config/deploy.<dest>.yml.
func destinationFile(base, dest string) string {
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "." + dest + ext
}

func readConfigFile(dir, f string) ([]byte, error) {
	path := f
	if dir != "" && !filepath.IsAbs(f) {
		path = filepath.Join(dir, f)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, errors.New("is a directory")
	}
	return os.ReadFile(path)
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, fs.ErrNotExist) {
			return "file not found"
		}
		return pe.Err.Error()
	}
	return err.Error()
}
