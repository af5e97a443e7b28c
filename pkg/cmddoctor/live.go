package cmddoctor

import (
	"context"

	"github.com/dockerkamal/docker-kamal/pkg/doctor"
)

func runLive(ctx context.Context, p *doctor.Project) ([]doctor.Finding, error) {
	return nil, nil
}
