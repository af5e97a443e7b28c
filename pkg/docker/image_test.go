package docker

import (
	"errors"
	"strings"
	"testing"
)

func TestLoadErrorMarksMissingLayers(t *testing.T) {
	tests := []struct {
		msg     string
		missing bool
	}{
		{"load image: open /var/lib/docker/tmp/docker-import-1/abc/layer.tar: no such file or directory", true},
		{"load image: unexpected EOF", false},
		{"load image: invalid tar header", false},
	}
	for _, tt := range tests {
		err := loadError(errors.New(tt.msg))
		if got := errors.Is(err, ErrLayerMissing); got != tt.missing {
			t.Errorf("loadError(%q): ErrLayerMissing = %v, want %v", tt.msg, got, tt.missing)
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("loadError(%q) lost the engine's text: %v", tt.msg, err)
		}
	}
}
