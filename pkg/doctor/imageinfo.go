package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// dockerTimeout bounds each local docker command doctor runs.
const dockerTimeout = 30 * time.Second

// ImageInfo is what doctor reads from a locally built image.
type ImageInfo struct {
	// Ref is the reference that was inspected.
	Ref  string
	ID   string
	User string
	// Env is the image config's environment (KEY=value). Values are read to
	// test for jemalloc and YJIT only; never printed.
	Env  []string
	Size int64
	// Layers are the image's history entries, newest first.
	Layers []Layer
}

// Layer is one history entry of an image.
type Layer struct {
	CreatedBy string
	Size      int64
}

// EnvValue returns the value of variable name in the image env.
func (i *ImageInfo) EnvValue(name string) (string, bool) {
	for _, kv := range i.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// ImageInspector reads a local image; it returns (nil, nil) when the image
// does not exist locally.
type ImageInspector interface {
	InspectImage(ctx context.Context, ref string) (*ImageInfo, error)
}

// DockerCLI inspects images with the local docker CLI.
type DockerCLI struct {
	// Flags are docker's global flags (--context, -H) to pass along.
	Flags []string
}

// InspectImage implements ImageInspector.
func (d DockerCLI) InspectImage(ctx context.Context, ref string) (*ImageInfo, error) {
	if _, err := exec.LookPath("docker"); err != nil {
		return nil, nil // no docker here: nothing to inspect
	}
	out, stderr, err := d.run(ctx, "image", "inspect", "--format", "{{json .}}", ref)
	if err != nil {
		if strings.Contains(strings.ToLower(stderr), "no such image") {
			return nil, nil
		}
		return nil, fmt.Errorf("inspect image %s: %v: %s", ref, err, strings.TrimSpace(stderr))
	}
	var raw struct {
		ID     string `json:"Id"`
		Size   int64  `json:"Size"`
		Config struct {
			User string   `json:"User"`
			Env  []string `json:"Env"`
		} `json:"Config"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		return nil, fmt.Errorf("inspect image %s: decode: %w", ref, err)
	}
	info := &ImageInfo{Ref: ref, ID: raw.ID, User: raw.Config.User, Env: raw.Config.Env, Size: raw.Size}
	out, stderr, err = d.run(ctx, "history", "--no-trunc", "--human=false", "--format", "{{json .}}", ref)
	if err != nil {
		return nil, fmt.Errorf("read history of image %s: %v: %s", ref, err, strings.TrimSpace(stderr))
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var h struct {
			CreatedBy string `json:"CreatedBy"`
			Size      string `json:"Size"`
		}
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			return nil, fmt.Errorf("read history of image %s: decode: %w", ref, err)
		}
		n, _ := strconv.ParseInt(h.Size, 10, 64) // "<missing>"-style values count as 0
		info.Layers = append(info.Layers, Layer{CreatedBy: h.CreatedBy, Size: n})
	}
	return info, nil
}

func (d DockerCLI) run(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", append(append([]string{}, d.Flags...), args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}
