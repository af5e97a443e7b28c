package bench

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sampleResults is a fixed run covering every figure.
func sampleResults() *Results {
	r := &Results{Started: time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC), Seconds: 600,
		Machine: Machine{CPUs: 2, GoVersion: "go1.26.8", DockerVersion: "20.10.24", Commit: "abc1234", Load1: 1.5}}
	add := func(name, title string) *Scenario {
		s := &Scenario{Name: name, Title: title, Seconds: 10}
		r.Scenarios = append(r.Scenarios, s)
		return s
	}
	s := add("startup", "start-up")
	s.Add("docker kamal version", "ms", []float64{20, 22, 25}, AtMost(100))
	s.Add("docker version (client)", "ms", []float64{40, 41, 45}, nil)
	s = add("ship", "shipping")
	s.Add("changed layer (uncompressed)", "MB", []float64{11}, nil)
	s.Add("imageship bytes on the wire", "MB", []float64{4.1, 4.2}, nil)
	s.Add("save|ssh load bytes on the wire", "MB", []float64{97, 97}, nil)
	s.Add("imageship time", "s", []float64{0.5, 0.6}, nil)
	s.Add("save|ssh load time", "s", []float64{4, 5}, nil)
	s.AddRatio("save|load time / imageship time", []float64{4, 5}, []float64{0.5, 0.6}, AtLeast(10))
	s = add("naive", "naive")
	tl := &Timeline{BucketMs: 250, Versions: []string{"a", "b"}, OK: [][]int{{50, 20, 0}, {0, 10, 50}}, Failed: []int{0, 20, 0}, Marks: []float64{200}}
	s.Load = []LoadCase{{Case: "naive stop-then-start", Operations: 2, Hosts: 2, Rate: 200, Requests: 150, OK: 130, Non2xx: 15, Errors: 5, Timeline: tl, FirstErrors: []string{"HTTP 502"}}}
	s = add("zero-downtime", "zd")
	s.Load = []LoadCase{{Case: "deploy", Operations: 5, Hosts: 2, Requests: 10000, OK: 10000, Timeline: tl}}
	s.Add("failed requests: deploy", "requests", []float64{0}, MaxAtMost(0))
	s = add("cutover", "cutover")
	s.Add("cutover reported by the sidecar", "ms", []float64{120, 150, 400}, AtMost(300))
	s = add("rollback", "rollback")
	s.Add("rollback, 1 host", "s", []float64{2, 2.5}, AtMost(3))
	s.Add("rollback, fleet of 3", "s", []float64{5, 6}, AtMost(4))
	s = add("e2e-deploy", "e2e")
	s.Phases = []Phase{{"start, connect, lock", 0.5}, {"build (pre-build hook + docker build)", 4}, {"ship", 2}, {"swap (all hosts)", 3}, {"swap web on h1", 1.5}}
	s = add("fan-out", "fan-out")
	s.Add("deploy to 1 host(s)", "s", []float64{3}, nil)
	s.Add("deploy to 4 host(s)", "s", []float64{4}, nil)
	s = add("footprint", "footprint")
	s.Add("sidecar idle RSS", "MiB", []float64{12, 12.5}, AtMost(30))
	add("broken", "a scenario that failed").Error = "setup failed | badly"
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n%s", name, got)
	}
}

func TestTableGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, sampleResults()); err != nil {
		t.Fatal(err)
	}
	golden(t, "table.txt", b.Bytes())
}

func TestReadmeGolden(t *testing.T) {
	r := sampleResults()
	golden(t, "README.md", []byte(Readme(r, Figures(r), "Hand-written note.")))
}

func TestFiguresAreWellFormedSVG(t *testing.T) {
	figs := Figures(sampleResults())
	want := []string{"zero-downtime.svg", "timeline.svg", "cutover.svg", "rollback.svg", "ship-bytes.svg", "ship-time.svg", "fanout.svg", "e2e-deploy.svg", "startup.svg", "footprint.svg"}
	var got []string
	for _, f := range figs {
		got = append(got, f.File)
		d := xml.NewDecoder(strings.NewReader(f.SVG))
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Errorf("%s is not well-formed XML: %v", f.File, err)
				}
				break
			}
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("figures = %v, want %v", got, want)
	}
	golden(t, "cutover.svg", []byte(figs[2].SVG))
}

func TestMissedNamesFailuresAndTargets(t *testing.T) {
	missed := sampleResults().Missed()
	want := []string{
		"ship: save|load time / imageship time = 8.17 x, target median >= 10",
		"rollback: rollback, fleet of 3 = 5.50 s, target median <= 4",
		"broken: did not finish: setup failed | badly",
	}
	if strings.Join(missed, "\n") != strings.Join(want, "\n") {
		t.Errorf("Missed() =\n%s\nwant\n%s", strings.Join(missed, "\n"), strings.Join(want, "\n"))
	}
}

// TestDumpFigures writes the sample figures to $BENCH_DUMP (for a look) or
// a temp dir, and checks each file is there and non-empty.
func TestDumpFigures(t *testing.T) {
	dir := os.Getenv("BENCH_DUMP")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, f := range Figures(sampleResults()) {
		p := filepath.Join(dir, f.File)
		if err := os.WriteFile(p, []byte(f.SVG), 0o644); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Fatalf("figure %s not written: %v", f.File, err)
		}
	}
}

func TestWithChaosSectionReplacesItself(t *testing.T) {
	readme := "# Benchmarks\n\nfigures\n"
	once := WithChaosSection(readme, "# Chaos soak\n\nSeed 1, 50 cycles.\n")
	twice := WithChaosSection(once, "# Chaos soak\n\nSeed 2, 50 cycles.\n")
	if !strings.HasPrefix(twice, readme) || strings.Count(twice, "## Chaos soak") != 1 ||
		!strings.Contains(twice, "Seed 2") || strings.Contains(twice, "Seed 1") || strings.Contains("\n"+twice, "\n# Chaos soak") {
		t.Errorf("README after two soaks:\n%s", twice)
	}
}
