package transport_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// One pool per command; the sidecar's API through its forwarded socket.
func Example() {
	pool, err := transport.NewPool(transport.Options{
		User:  "root", // ssh.user (empty: ~/.ssh/config, else root)
		Proxy: "",     // ssh.proxy, e.g. "ops@bastion"
		Port:  0,      // ssh.port
		// AcceptNewHostKeys: true, // --accept-new-host-keys
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := pool.Each(ctx, []string{"10.0.0.1", "10.0.0.2"}, func(ctx context.Context, c *transport.Conn) error {
		out, err := c.Output(ctx, transport.Quote("docker", "network", "create", "kamal"))
		_ = out
		if err != nil {
			return fmt.Errorf("create network: %w", err)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://sidecar/v1/status", nil)
		resp, err := c.HTTPClient("/run/kamal/sidecar.sock").Do(req)
		if err != nil {
			return fmt.Errorf("query sidecar: %w", err)
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	})
	for _, err := range errs {
		if err != nil {
			fmt.Println(err) // "ssh 10.0.0.1: ..."; errors.Is(err, transport.ErrHostKeyChanged) etc.
		}
	}
}
