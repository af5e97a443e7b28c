package transport

import (
	"errors"
	"fmt"
	"os"

	"github.com/kevinburke/ssh_config"
)

// sshConfig is the subset of ssh_config lookups the resolver needs.
type sshConfig interface {
	Get(alias, key string) (string, error)
	GetAll(alias, key string) ([]string, error)
}

type noConfig struct{}

func (noConfig) Get(string, string) (string, error)      { return "", nil }
func (noConfig) GetAll(string, string) ([]string, error) { return nil, nil }

// loadConfigs reads opts.ConfigFile then opts.ConfigFiles; for each key the
// first file that sets it wins, as with OpenSSH's -F plus includes.
func loadConfigs(opts Options) (sshConfig, error) {
	paths := append([]string{opts.ConfigFile}, opts.ConfigFiles...)
	var cfgs multiConfig
	for _, p := range paths {
		if p == "" {
			continue
		}
		c, err := loadConfig(p)
		if err != nil {
			return nil, err
		}
		cfgs = append(cfgs, c)
	}
	return cfgs, nil
}

// multiConfig looks keys up in several configs in order.
type multiConfig []sshConfig

func (m multiConfig) Get(alias, key string) (string, error) {
	for _, c := range m {
		v, err := c.Get(alias, key)
		if err != nil || v != "" {
			return v, err
		}
	}
	return "", nil
}

func (m multiConfig) GetAll(alias, key string) ([]string, error) {
	var all []string
	for _, c := range m {
		v, err := c.GetAll(alias, key)
		if err != nil {
			return nil, err
		}
		all = append(all, v...)
	}
	return all, nil
}

// loadConfig reads the ssh config named by path ("none" for none). A missing
// default config is not an error; a missing explicit one is.
func loadConfig(path string) (sshConfig, error) {
	if path == "none" {
		return noConfig{}, nil
	}
	p, err := expandHome(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) && path == DefaultConfigFile {
		return noConfig{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ssh config: %w", err)
	}
	defer func() { _ = f.Close() }() // read only: Decode has read all it needs
	cfg, err := ssh_config.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("parse ssh config %s: %w (set the config file to \"none\" to skip it)", path, err)
	}
	return cfg, nil
}
