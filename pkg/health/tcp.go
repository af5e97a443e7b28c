package health

import (
	"context"
	"net"
)

// TCP is healthy when a TCP connection to Addr ("host:port") is accepted.
type TCP struct {
	Addr string
}

func (p TCP) String() string { return "tcp connect " + p.Addr }

// Check dials once.
func (p TCP) Check(ctx context.Context) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", p.Addr)
	if err != nil {
		return err
	}
	return c.Close()
}
