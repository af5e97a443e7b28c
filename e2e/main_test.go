package e2e

import (
	"os"
	"testing"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }
