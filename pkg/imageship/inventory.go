package imageship

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// hostInventory is what the host holds: layer chains and tags per image ID.
type hostInventory struct {
	layers [][]string
	tags   map[string][]string
}

// hostImages asks the host for every image's ID, layers and tags in one round
// trip. Images removed between the listing and the inspect are tolerated.
func (s *Shipper) hostImages(ctx context.Context, r Remote) (*hostInventory, error) {
	d := s.opts.RemoteDocker
	cmd := d + " image ls -aq --no-trunc | sort -u | xargs -r " + d +
		` image inspect --format '{{json .Id}} {{json .RootFS.Layers}} {{json .RepoTags}}'`
	var out bytes.Buffer
	var stderr tailWriter
	err := r.Run(ctx, cmd, nil, &out, &stderr)
	if err != nil && (out.Len() == 0 || ctx.Err() != nil) {
		return nil, fmt.Errorf("list images on host: %w%s", err, stderr.suffix())
	}
	inv := &hostInventory{tags: map[string][]string{}}
	for _, line := range strings.Split(out.String(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		id, layers, tags, err := parseHostLine(line)
		if err != nil {
			return nil, fmt.Errorf("list images on host: %w", err)
		}
		inv.layers = append(inv.layers, layers)
		inv.tags[id] = append(inv.tags[id], tags...)
	}
	return inv, nil
}

// parseHostLine parses `{{json .Id}} {{json .RootFS.Layers}} {{json .RepoTags}}`.
func parseHostLine(line string) (id string, layers, tags []string, err error) {
	dec := json.NewDecoder(strings.NewReader(line))
	if err := dec.Decode(&id); err != nil {
		return "", nil, nil, fmt.Errorf("parse %q: %w", line, err)
	}
	if err := dec.Decode(&layers); err != nil {
		return "", nil, nil, fmt.Errorf("parse %q: %w", line, err)
	}
	if err := dec.Decode(&tags); err != nil {
		return "", nil, nil, fmt.Errorf("parse %q: %w", line, err)
	}
	if !strings.HasPrefix(id, "sha256:") {
		return "", nil, nil, fmt.Errorf("parse %q: bad image ID", line)
	}
	return id, layers, tags, nil
}
