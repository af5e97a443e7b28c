package bench

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuMark is a point in time with the CPU this process and the whole
// machine had used by then, to tell the load generator's cost from the
// product's when the target rate is not reached.
type cpuMark struct {
	at      time.Time
	self    time.Duration
	busy    float64 // machine busy jiffies
	jiffies float64 // machine total jiffies
}

func markCPU() cpuMark {
	m := cpuMark{at: time.Now()}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		m.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if data, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		f := strings.Fields(line)
		for i, v := range f[1:] {
			x, _ := strconv.ParseFloat(v, 64)
			m.jiffies += x
			if i != 3 && i != 4 { // idle, iowait
				m.busy += x
			}
		}
	}
	return m
}

// since returns the cores this process used and the cores the machine was
// busy with between m and now.
func (m cpuMark) since(cpus int) (self, machine float64) {
	n := markCPU()
	wall := n.at.Sub(m.at).Seconds()
	if wall <= 0 {
		return 0, 0
	}
	self = (n.self - m.self).Seconds() / wall
	if dj := n.jiffies - m.jiffies; dj > 0 {
		machine = (n.busy - m.busy) / dj * float64(cpus)
	}
	return self, machine
}
