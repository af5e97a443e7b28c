package imageship

import (
	"io"
	"sync"
	"time"
)

// countingWriter counts bytes and reports progress at most every
// DefaultProgressInterval.
type countingWriter struct {
	w        io.Writer
	host     string
	progress func(string, int64)
	base     int64 // bytes of earlier attempts

	mu   sync.Mutex
	n    int64
	last time.Time
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	c.report(false)
	return n, err
}

func (c *countingWriter) total() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base + c.n
}

func (c *countingWriter) report(final bool) {
	if c.progress == nil {
		return
	}
	c.mu.Lock()
	now := time.Now()
	if !final && now.Sub(c.last) < DefaultProgressInterval {
		c.mu.Unlock()
		return
	}
	c.last = now
	n := c.base + c.n
	c.mu.Unlock()
	c.progress(c.host, n)
}
