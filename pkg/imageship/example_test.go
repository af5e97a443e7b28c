package imageship_test

import (
	"context"
	"fmt"

	"github.com/dockerkamal/docker-kamal/pkg/imageship"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// Shipping an image to every host of a command over its pooled connections.
func Example() {
	ctx := context.Background()
	pool, err := transport.NewPool(transport.Options{User: "root"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()

	shipper := imageship.New(imageship.Options{
		DockerFlags: nil, // command.Globals.DockerFlags
		Progress:    func(host string, sent int64) { fmt.Printf("%s: %d bytes\n", host, sent) },
	})
	defer shipper.Close()

	connect := func(ctx context.Context, host string) (imageship.Remote, error) { return pool.Get(ctx, host) }
	for _, r := range shipper.ShipAll(ctx, "app:abc123", []string{"10.0.0.1", "10.0.0.2"}, connect) {
		if r.Err != nil {
			fmt.Println(r.Err) // "ship app:abc123 to 10.0.0.1: ..."
			continue
		}
		fmt.Printf("%s: %s, %d of %d layers already there, %d bytes in %v\n",
			r.Host, r.ImageID, r.LayersSkipped, r.Layers, r.Bytes, r.Duration)
	}
}
