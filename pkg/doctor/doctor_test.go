package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// leakMarker is in every secret value of the fixtures; no output may
// contain it.
const leakMarker = "LEAK"

// testEnv is the process env the fixtures' configs see.
func testEnv(k string) (string, bool) {
	if v, ok := tlsTestEnv(k); ok {
		return v, true
	}
	switch k {
	case "POSTGRES_PASSWORD":
		return "LEAKenvpostgres0000", true
	case "API_TOKEN":
		return "LEAKenvapitoken0000", true
	}
	return "", false
}

// fakeImages serves the image described by image.json at the app root.
type fakeImages struct{ root string }

func (f fakeImages) InspectImage(_ context.Context, ref string) (*ImageInfo, error) {
	data, err := os.ReadFile(filepath.Join(f.root, "image.json"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var info ImageInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, err
	}
	info.Ref = ref
	return &info, nil
}

// copyTree copies src over dst.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// newApp builds an app tree in a temp dir from layers (later ones win) and
// makes it a git work tree with every file tracked.
func newApp(t testing.TB, layers ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, l := range layers {
		copyTree(t, l, dir)
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}} {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	return dir
}

// doctorReport runs every check on dir.
func doctorReport(t testing.TB, dir, dest string) Report {
	t.Helper()
	p, err := Load(context.Background(), Options{Root: dir, Destination: dest, Env: testEnv, Images: fakeImages{dir}})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return NewReport(Run(context.Background(), p, Checks()), p.Secrets())
}

func only(r Report, id string) Report {
	var fs []Finding
	for _, f := range r.Findings {
		if f.Check == id {
			fs = append(fs, f)
		}
	}
	return NewReport(fs, nil)
}

func render(t testing.TB, r Report) (text, js string) {
	t.Helper()
	var a, b bytes.Buffer
	if err := r.WriteText(&a); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return a.String(), b.String()
}

func golden(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

func noLeak(t testing.TB, outputs ...string) {
	t.Helper()
	for _, o := range outputs {
		if strings.Contains(o, leakMarker) {
			t.Errorf("output holds a secret value:\n%s", o)
		}
	}
}

// TestChecks runs each check's fixtures: every check has at least one bad
// variant that must fire (golden, human and JSON) and good variants (plus
// the base app) that must stay silent.
func TestChecks(t *testing.T) {
	for _, c := range Checks() {
		t.Run(c.ID, func(t *testing.T) {
			dir := filepath.Join("testdata", "checks", c.ID)
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatalf("check %s has no fixtures: %v", c.ID, err)
			}
			bad := 0
			for _, e := range entries {
				if !e.IsDir() {
					continue
				}
				variant := e.Name()
				app := newApp(t, "testdata/app", filepath.Join(dir, variant))
				r := only(doctorReport(t, app, ""), c.ID)
				text, js := render(t, r)
				noLeak(t, text, js)
				switch {
				case strings.HasPrefix(variant, "bad"):
					bad++
					if len(r.Findings) == 0 {
						t.Errorf("%s: check did not fire", variant)
					}
					golden(t, filepath.Join(dir, variant+".golden"), text)
					golden(t, filepath.Join(dir, variant+".json.golden"), js)
				case strings.HasPrefix(variant, "good"):
					if len(r.Findings) != 0 {
						t.Errorf("%s: check fired:\n%s", variant, text)
					}
				default:
					t.Errorf("fixture %s must start with bad or good", variant)
				}
			}
			if bad == 0 {
				t.Errorf("check %s has no bad fixture", c.ID)
			}
			// The base app is a good fixture for every check.
			r := only(doctorReport(t, newApp(t, "testdata/app"), ""), c.ID)
			if len(r.Findings) != 0 {
				text, _ := render(t, r)
				t.Errorf("base app: check fired:\n%s", text)
			}
		})
	}
}

// TestApps compares whole-doctor output for a healthy and a neglected app.
func TestApps(t *testing.T) {
	for _, name := range []string{"app", "app-bad"} {
		t.Run(name, func(t *testing.T) {
			r := doctorReport(t, newApp(t, filepath.Join("testdata", name)), "")
			text, js := render(t, r)
			noLeak(t, text, js)
			golden(t, filepath.Join("testdata", name+".golden"), text)
			golden(t, filepath.Join("testdata", name+".json.golden"), js)
			if ok := name == "app"; r.OK() != ok {
				t.Errorf("OK() = %v, want %v", r.OK(), ok)
			}
		})
	}
}

func TestCheckIDsUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Checks() {
		if c.ID == "" || seen[c.ID] {
			t.Errorf("check ID %q empty or repeated", c.ID)
		}
		seen[c.ID] = true
	}
}
