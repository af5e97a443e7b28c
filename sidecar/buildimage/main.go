// Command buildimage compiles kamal-sidecar as a static binary
// (CGO_ENABLED=0) and builds the FROM scratch image kamal-sidecar:<version>
// with the local docker CLI (pkg/sidecarimage):
//
//	go run ./sidecar/buildimage -version 1.2.3 [-o bin/kamal-sidecar]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/buildinfo"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarimage"
)

// compileTimeout bounds the go build.
const compileTimeout = 10 * time.Minute

func main() {
	version := flag.String("version", buildinfo.Version, "sidecar version: stamped into the binary and used as the image tag")
	out := flag.String("o", "", "also keep the binary at this path")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ref, err := run(ctx, *version, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "buildimage:", err)
		os.Exit(1)
	}
	fmt.Println(ref)
}

func run(ctx context.Context, version, keep string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := keep
	if bin == "" {
		dir, err := os.MkdirTemp("", "kamal-sidecar-build-")
		if err != nil {
			return "", err
		}
		// A temp dir left behind is clutter, not a failed build.
		defer func() { _ = os.RemoveAll(dir) }()
		bin = filepath.Join(dir, "kamal-sidecar")
	} else if bin, err = filepath.Abs(bin); err != nil {
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, compileTimeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, "go", "build", "-trimpath",
		"-ldflags", "-s -w -X github.com/dockerkamal/docker-kamal/pkg/buildinfo.Version="+version,
		"-o", bin, "./sidecar")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("compile kamal-sidecar: %w: %s", err, b)
	}
	ref := contract.ImageRef(version)
	if err := sidecarimage.Build(ctx, nil, bin, ref); err != nil {
		return "", err
	}
	return ref, nil
}

// moduleRoot finds the directory holding go.mod, from the working
// directory upwards.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 64 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("find module root: no go.mod above the working directory")
}
