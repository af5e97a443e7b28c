package bench

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

// timelineBucket is the width of a timeline bucket.
const timelineBucket = 250 * time.Millisecond

// load is constant load through Traefik on some web hosts, plus optional
// slow requests, while operations run.
type load struct {
	start time.Time
	cpu   cpuMark
	rate  float64
	hosts []*harness.Host
	gens  []*loadgen.Generator
	slow  []*loadgen.Generator
	marks []time.Time
	// checks are cutovers to measure; reports the main generators' reports
	// once stopped.
	checks  []cutoverCheck
	reports []*loadgen.Report
}

// loadSpec says what load to send.
type loadSpec struct {
	Rate float64
	// Host is the Host header ("" for the kamal app's catch-all route).
	Host string
	// Slow adds slowRate requests/s per host to /sleep?ms=slowMs.
	Slow bool
	// Max bounds the run in time.
	Max time.Duration
}

func startLoad(ctx context.Context, f *harness.Fleet, hosts []*harness.Host, ls loadSpec) (*load, error) {
	l := &load{start: time.Now(), cpu: markCPU(), rate: ls.Rate, hosts: hosts}
	allow := []netip.Prefix{f.Subnet}
	for _, h := range hosts {
		g, err := loadgen.Start(ctx, loadgen.Config{
			URL: "http://" + h.Addr.String() + "/", Host: ls.Host, Rate: ls.Rate,
			Duration: ls.Max, Count: loadgen.MaxCount, FreshRatio: DefaultFreshRatio, Allow: allow,
		})
		if err != nil {
			l.stop()
			return nil, err
		}
		l.gens = append(l.gens, g)
		if ls.Slow {
			g, err := loadgen.Start(ctx, loadgen.Config{
				URL: fmt.Sprintf("http://%s/sleep?ms=%d", h.Addr, slowMs), Host: ls.Host, Rate: slowRate,
				Duration: ls.Max, Count: loadgen.MaxCount, FreshRatio: DefaultFreshRatio, Allow: allow,
			})
			if err != nil {
				l.stop()
				return nil, err
			}
			l.slow = append(l.slow, g)
		}
	}
	return l, nil
}

// sent estimates the requests sent so far (all hosts).
func (l *load) sent() int {
	return int(time.Since(l.start).Seconds() * l.rate * float64(len(l.hosts)))
}

// mark records an operation start for the timeline.
func (l *load) mark() { l.marks = append(l.marks, time.Now()) }

func (l *load) stop() ([]*loadgen.Report, []*loadgen.Report) {
	var main, slow []*loadgen.Report
	for _, g := range l.gens {
		main = append(main, g.Stop())
	}
	for _, g := range l.slow {
		slow = append(slow, g.Stop())
	}
	return main, slow
}

// finish stops the load and condenses it into a LoadCase.
func (l *load) finish(name string, ops int) LoadCase {
	self, machine := l.cpu.since(runtime.NumCPU())
	main, slow := l.stop()
	l.reports = main
	c := LoadCase{Case: name, Operations: ops, Hosts: len(l.hosts), Rate: l.rate, LoadgenCores: self, MachineCores: machine}
	var lat []time.Duration
	seen := map[string]bool{}
	var elapsed time.Duration
	for _, r := range append(append([]*loadgen.Report{}, main...), slow...) {
		s := r.Summary
		c.Requests += s.Total
		c.Fresh += s.Fresh
		c.OK += s.OK
		c.Non2xx += s.Non2xx
		c.Errors += s.Errors
		if d := s.End.Sub(s.Start); d > elapsed {
			elapsed = d
		}
		for _, res := range r.Results {
			lat = append(lat, res.Latency)
			if !res.OK() && len(c.FirstErrors) < 5 {
				why := res.Err
				if why == "" {
					why = fmt.Sprintf("HTTP %d", res.Status)
				}
				if !seen[why] {
					seen[why] = true
					c.FirstErrors = append(c.FirstErrors, why)
				}
			}
		}
	}
	for _, r := range slow {
		c.Slow += r.Summary.Total
		c.SlowFailed += r.Summary.Non2xx + r.Summary.Errors
	}
	if elapsed > 0 {
		c.Achieved = float64(c.Requests) / elapsed.Seconds()
	}
	vals := make([]float64, len(lat))
	for i, d := range lat {
		vals[i] = ms(d)
	}
	st := Summarize(vals)
	c.P50ms, c.P99ms, c.MaxMs = st.Median, quantileOf(vals, 0.99), st.Max
	if len(main) > 0 {
		c.Timeline = timeline(main[0], l.start, l.marks)
	}
	return c
}

func quantileOf(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	c := append([]float64(nil), v...)
	sortFloats(c)
	return quantile(c, q)
}

// timeline buckets one host's results by send time.
func timeline(r *loadgen.Report, start time.Time, marks []time.Time) *Timeline {
	t := &Timeline{BucketMs: int(timelineBucket / time.Millisecond)}
	n := 0
	for _, res := range r.Results {
		if b := int(res.Start.Sub(start) / timelineBucket); b+1 > n {
			n = b + 1
		}
	}
	idx := map[string]int{}
	t.Failed = make([]int, n)
	for _, res := range r.Results {
		b := int(res.Start.Sub(start) / timelineBucket)
		if b < 0 {
			continue
		}
		if !res.OK() {
			t.Failed[b]++
			continue
		}
		i, ok := idx[res.Version]
		if !ok {
			i = len(t.Versions)
			idx[res.Version] = i
			t.Versions = append(t.Versions, res.Version)
			t.OK = append(t.OK, make([]int, n))
		}
		t.OK[i][b]++
	}
	for _, m := range marks {
		t.Marks = append(t.Marks, ms(m.Sub(start)))
	}
	return t
}

// opLoop runs op under l until at least minOps ran and the load sent at
// least minRequests, bounded by max; it returns how many ops ran.
func opLoop(ctx context.Context, l *load, minOps, minRequests int, max time.Duration, op func(i int) error) (int, error) {
	deadline := time.Now().Add(max)
	ops := 0
	for ops < minOps || l.sent() < minRequests {
		if time.Now().After(deadline) {
			return ops, fmt.Errorf("bound of %v reached after %d operations and ~%d requests", max, ops, l.sent())
		}
		if err := ctx.Err(); err != nil {
			return ops, err
		}
		l.mark()
		if err := op(ops); err != nil {
			return ops, err
		}
		ops++
	}
	// Let the last swap's drain show in the load.
	select {
	case <-ctx.Done():
		return ops, ctx.Err()
	case <-time.After(time.Second):
	}
	return ops, nil
}
