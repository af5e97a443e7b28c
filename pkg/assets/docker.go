package assets

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// Engine is what DockerSource needs of the Docker engine; *docker.Client
// implements it.
type Engine interface {
	Create(ctx context.Context, s docker.ContainerSpec) (string, error)
	CopyFrom(ctx context.Context, id, path string) (io.ReadCloser, error)
	Remove(ctx context.Context, id string, force bool) error
}

// imageInspector is the part of the engine that names an image's ID;
// *docker.Client implements it.
type imageInspector interface {
	ImageInspect(ctx context.Context, ref string) (docker.Image, error)
}

// ImageID implements Identifier when the engine can inspect images.
func (s DockerSource) ImageID(ctx context.Context, image string) (string, error) {
	ii, ok := s.Docker.(imageInspector)
	if !ok {
		return "", errors.ErrUnsupported
	}
	img, err := ii.ImageInspect(ctx, image)
	if err != nil {
		return "", fmt.Errorf("inspect %s: %w", image, err)
	}
	return img.ID, nil
}

// removeTimeout bounds removing the extraction container.
const removeTimeout = 30 * time.Second

// DockerSource reads an image's files through a container created (never
// started) from it, as `docker container create` + `docker cp -L` do.
type DockerSource struct {
	Docker Engine
}

// Archive streams dir of image; closing it removes the container.
func (s DockerSource) Archive(ctx context.Context, image, dir string) (io.ReadCloser, error) {
	id, err := s.Docker.Create(ctx, docker.ContainerSpec{
		Name:   "kamal-assets-" + randomSuffix(),
		Image:  image,
		Labels: map[string]string{"kamal.assets": "1"},
	})
	if err != nil {
		return nil, fmt.Errorf("create container from %s: %w", image, err)
	}
	rc, err := s.Docker.CopyFrom(ctx, id, dir)
	if err != nil {
		s.remove(id)
		if docker.IsNotFound(err) {
			return nil, fmt.Errorf("%s in %s: %w", dir, image, ErrNoAssets)
		}
		return nil, err
	}
	return &removeOnClose{ReadCloser: rc, remove: func() { s.remove(id) }}, nil
}

// remove runs on its own deadline: the caller's context may be the one
// that just ended, and the container must not be left behind.
func (s DockerSource) remove(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	_ = s.Docker.Remove(ctx, id, true) // a leftover created container holds no resources but its name
}

type removeOnClose struct {
	io.ReadCloser
	remove func()
}

func (r *removeOnClose) Close() error {
	err := r.ReadCloser.Close()
	r.remove()
	return err
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}
