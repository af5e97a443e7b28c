package sidecar

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dockerkamal/docker-kamal/pkg/atomicfile"
)

// writeJSONAtomic writes v as indented JSON, mode 0600, with
// atomicfile.WriteFile, creating the state directory it goes in.
func writeJSONAtomic(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create dir %s: %w", dir, err)
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o600)
}

// readJSON decodes path into v; a missing file returns os.ErrNotExist.
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}
