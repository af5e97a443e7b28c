package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints every scenario's metrics and load cases as aligned
// text.
func WriteTable(w io.Writer, r *Results) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\tmetric\tmedian\tp25..p75\tmin..max\tn\tunit\ttarget\tmet\n")
	for _, s := range r.Scenarios {
		if s.Skipped {
			continue
		}
		if s.Error != "" {
			fmt.Fprintf(tw, "%s\t(%s)\t\t\t\t\t\t\t%s\n", s.Name, oneLine(s.Error, 70), "FAILED")
		}
		for _, m := range s.Metrics {
			target, met := "", ""
			if m.Target != nil {
				target = m.Target.String()
				met = "yes"
				if m.Met != nil && !*m.Met {
					met = "NO"
				}
			}
			st := m.Stat
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s..%s\t%s..%s\t%d\t%s\t%s\t%s\n", s.Name, m.Name, fmtNum(st.Median),
				fmtNum(st.P25), fmtNum(st.P75), fmtNum(st.Min), fmtNum(st.Max), st.N, m.Unit, target, met)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var cases []LoadCase
	for _, s := range r.Scenarios {
		cases = append(cases, s.Load...)
	}
	if len(cases) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "load case\tops\thosts\treq/s\trequests\tfresh\tnon-2xx\terrors\tslow (failed)\tp50 ms\tp99 ms\tmax ms\tloadgen cores\tmachine cores\n")
		for _, c := range cases {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%d\t%d\t%d\t%d\t%d (%d)\t%s\t%s\t%s\t%.2f\t%.2f\n", c.Case, c.Operations, c.Hosts, c.Achieved,
				c.Requests, c.Fresh, c.Non2xx, c.Errors, c.Slow, c.SlowFailed, fmtNum(c.P50ms), fmtNum(c.P99ms), fmtNum(c.MaxMs), c.LoadgenCores, c.MachineCores)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, s := range r.Scenarios {
		if len(s.Phases) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s phases (median run):\n", s.Name)
		for _, p := range s.Phases {
			fmt.Fprintf(w, "  %-40s %6.2f s\n", p.Name, p.Seconds)
		}
	}
	return nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n-3] + "..."
	}
	return s
}
