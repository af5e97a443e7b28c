package swap

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// LabelSpec holds the redacted wire spec (JSON) on every container the
// engine starts, so a rollback can rebuild routing from the container alone.
const LabelSpec = "kamal.spec"

// replacedInfix marks a container renamed aside by a redeploy of its version.
const replacedInfix = "_replaced_"

// asideName returns the name a container is renamed to when a redeploy of
// its version needs the name: name_replaced_<16 hex>.
func asideName(name string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand crashes the program rather than return an error
	return name + replacedInfix + hex.EncodeToString(b[:])
}

// encodeSpec returns the redacted spec as a label value.
func encodeSpec(d *contract.Deploy) (string, error) {
	r := d.Redacted()
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode spec label: %w", err)
	}
	return string(b), nil
}

// SpecOf is the redacted spec c was started with (its LabelSpec): enough
// to route and probe it again, never to recreate it.
func SpecOf(c docker.Container) (*contract.Deploy, error) {
	d, err := decodeSpec(c.Labels[LabelSpec])
	if err != nil {
		return nil, fmt.Errorf("read spec of %s: %w", c.Name, err)
	}
	return d, nil
}

// decodeSpec reads a LabelSpec value.
func decodeSpec(v string) (*contract.Deploy, error) {
	if v == "" {
		return nil, fmt.Errorf("decode spec label: %w", ErrNoSpecLabel)
	}
	d, err := contract.DecodeDeploy(strings.NewReader(v))
	if err != nil {
		return nil, fmt.Errorf("decode spec label: %w", err)
	}
	return d, nil
}

// containerSpec builds the docker create request for green.
// assetsDir, when set, is bind-mounted at the spec's asset path.
func containerSpec(d *contract.Deploy, assetsDir string) (docker.ContainerSpec, error) {
	for _, k := range slices.Sorted(maps.Keys(d.Options.Extra)) {
		if !contract.IsExtraOption(k) {
			return docker.ContainerSpec{}, fmt.Errorf("build container: options.extra %s: %w", k, ErrUnsupportedOption)
		}
	}
	label, err := encodeSpec(d)
	if err != nil {
		return docker.ContainerSpec{}, err
	}
	labels := make(map[string]string, len(d.Labels)+5)
	maps.Copy(labels, d.Labels)
	labels[contract.LabelService] = d.Service
	labels[contract.LabelRole] = d.Role
	labels[contract.LabelDestination] = d.Destination
	labels[contract.LabelVersion] = d.Version
	labels[LabelSpec] = label
	env := make([]string, 0, len(d.Env)+len(d.SecretEnv))
	for _, k := range slices.Sorted(maps.Keys(d.Env)) {
		env = append(env, k+"="+d.Env[k])
	}
	for _, k := range slices.Sorted(maps.Keys(d.SecretEnv)) {
		env = append(env, k+"="+d.SecretEnv[k])
	}
	volumes := d.Options.Volumes
	if assetsDir != "" && d.Assets != nil {
		mount := assetsDir + ":" + d.Assets.Path
		if d.Assets.Options != "" {
			mount += ":" + d.Assets.Options
		}
		volumes = append(slices.Clone(volumes), mount)
	}
	return docker.ContainerSpec{
		Name:        d.ContainerName(),
		Image:       d.Image,
		Cmd:         d.Cmd,
		Env:         env,
		Labels:      labels,
		Network:     d.Network,
		Memory:      d.Options.Memory,
		CPUs:        d.Options.CPUs,
		Volumes:     volumes,
		Restart:     d.Options.Restart,
		LogDriver:   d.Options.LogDriver,
		LogOpts:     d.Options.LogOpts,
		Extra:       d.Options.Extra,
		StopTimeout: d.StopTimeout.D(),
	}, nil
}
