package imageship

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// synthImage is a synthetic `docker save` archive of one image.
type synthImage struct {
	archive []byte
	diffIDs []string
	layers  []string // archive paths
	id      string
}

type synthOpts struct {
	oci          bool // blobs/sha256 layout (newer Docker)
	manifestLast bool // Docker 20.10 writes manifest.json after the layers
	symlinkLast  bool // last layer is a symlink to the first (a repeated layer)
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// makeArchive builds an archive whose layers have the given contents.
func makeArchive(tb testing.TB, contents []string, o synthOpts) synthImage {
	tb.Helper()
	var img synthImage
	type entry struct {
		name, link string
		body       []byte
	}
	var layerEntries []entry
	for i, c := range contents {
		// A layer is itself a tar; its diff ID is the digest of that tar.
		var lb bytes.Buffer
		lw := tar.NewWriter(&lb)
		lw.WriteHeader(&tar.Header{Name: "f", Mode: 0o644, Size: int64(len(c))})
		lw.Write([]byte(c))
		lw.Close()
		d := digest(lb.Bytes())
		img.diffIDs = append(img.diffIDs, "sha256:"+d)
		var p string
		switch {
		case o.oci:
			p = "blobs/sha256/" + d
		default:
			p = strings.Repeat(string(rune('a'+i)), 64) + "/layer.tar"
		}
		if o.symlinkLast && i == len(contents)-1 && i > 0 {
			layerEntries = append(layerEntries, entry{name: p, link: "../" + img.layers[0]})
		} else {
			layerEntries = append(layerEntries, entry{name: p, body: lb.Bytes()})
			if !o.oci {
				dir := strings.TrimSuffix(p, "/layer.tar")
				layerEntries = append(layerEntries, entry{name: dir + "/json", body: []byte(`{"id":"` + dir + `"}`)},
					entry{name: dir + "/VERSION", body: []byte("1.0")})
			}
		}
		img.layers = append(img.layers, p)
	}
	cfg, _ := json.Marshal(map[string]any{"rootfs": map[string]any{"type": "layers", "diff_ids": img.diffIDs}})
	img.id = "sha256:" + digest(cfg)
	cfgPath := digest(cfg) + ".json"
	if o.oci {
		cfgPath = "blobs/sha256/" + digest(cfg)
	}
	manifest, _ := json.Marshal([]manifestEntry{{Config: cfgPath, RepoTags: []string{"app:v2"}, Layers: img.layers}})

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	write := func(e entry) {
		if e.link != "" {
			if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeSymlink, Linkname: e.link}); err != nil {
				tb.Fatal(err)
			}
			return
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		tw.Write(e.body)
	}
	head := []entry{{name: cfgPath, body: cfg}}
	if !o.manifestLast {
		head = append(head, entry{name: "manifest.json", body: manifest})
	}
	for _, e := range head {
		write(e)
	}
	for _, e := range layerEntries {
		write(e)
	}
	if o.manifestLast {
		write(entry{name: "manifest.json", body: manifest})
	}
	if o.oci {
		write(entry{name: "index.json", body: []byte(`{"schemaVersion":2}`)})
	} else {
		write(entry{name: "repositories", body: []byte(`{"app":{"v2":"x"}}`)})
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	img.archive = buf.Bytes()
	return img
}

// names lists an archive's entry names, sorted.
func names(tb testing.TB, archive []byte) []string {
	tb.Helper()
	tr := tar.NewReader(bytes.NewReader(archive))
	var out []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, hdr.Name)
	}
	sort.Strings(out)
	return out
}

func without(list []string, drop ...string) []string {
	var out []string
	for _, x := range list {
		keep := true
		for _, d := range drop {
			if x == d {
				keep = false
			}
		}
		if keep {
			out = append(out, x)
		}
	}
	return out
}

func TestRewriteArchive(t *testing.T) {
	base := strings.Repeat("base layer ", 1000)
	contents := []string{base, "middle", "app v2"}
	tests := []struct {
		name string
		opts synthOpts
		skip int
		drop func(img synthImage) []string // entries expected gone
	}{
		{"legacy, host has nothing", synthOpts{manifestLast: true}, 0, func(synthImage) []string { return nil }},
		{"legacy, host has base", synthOpts{manifestLast: true}, 1, func(i synthImage) []string { return i.layers[:1] }},
		{"legacy, host has two", synthOpts{}, 2, func(i synthImage) []string { return i.layers[:2] }},
		{"legacy, host has all", synthOpts{}, 3, func(i synthImage) []string { return i.layers }},
		{"oci layout, host has base", synthOpts{oci: true}, 1, func(i synthImage) []string { return i.layers[:1] }},
		// The last layer links to the first: the first's file must stay.
		{"symlinked layer kept", synthOpts{symlinkLast: true}, 2, func(i synthImage) []string { return i.layers[1:2] }},
		{"symlinked layer dropped", synthOpts{symlinkLast: true}, 3, func(i synthImage) []string { return i.layers }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := makeArchive(t, contents, tt.opts)
			idx, err := indexArchive(bytes.NewReader(img.archive))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(idx.DiffIDs, img.diffIDs) || !reflect.DeepEqual(idx.Layers, img.layers) {
				t.Fatalf("index: layers %v diffIDs %v, want %v %v", idx.Layers, idx.DiffIDs, img.layers, img.diffIDs)
			}
			var out bytes.Buffer
			if err := rewriteArchive(&out, bytes.NewReader(img.archive), idx.omit(tt.skip)); err != nil {
				t.Fatal(err)
			}
			want := without(names(t, img.archive), tt.drop(img)...)
			if got := names(t, out.Bytes()); !reflect.DeepEqual(got, want) {
				t.Errorf("entries\n got %v\nwant %v", got, want)
			}
			if tt.skip >= 1 && !tt.opts.symlinkLast && out.Len() >= len(img.archive)-len(base) {
				t.Errorf("rewritten archive is %d bytes, original %d: base layer not left out", out.Len(), len(img.archive))
			}
			// Kept entries are byte-identical.
			assertSameContents(t, img.archive, out.Bytes())
		})
	}
}

// assertSameContents checks every entry of got has the same content in orig.
func assertSameContents(tb testing.TB, orig, got []byte) {
	tb.Helper()
	read := func(b []byte) map[string]string {
		m := map[string]string{}
		tr := tar.NewReader(bytes.NewReader(b))
		for {
			hdr, err := tr.Next()
			if err != nil {
				return m
			}
			body, _ := io.ReadAll(tr)
			m[hdr.Name] = hdr.Linkname + string(body)
		}
	}
	o := read(orig)
	for name, body := range read(got) {
		if o[name] != body {
			tb.Errorf("entry %s changed", name)
		}
	}
}

func TestIndexArchiveErrors(t *testing.T) {
	tar1 := func(name, body string) []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))})
		tw.Write([]byte(body))
		tw.Close()
		return b.Bytes()
	}
	tests := []struct {
		name    string
		archive []byte
		want    string
	}{
		{"not a tar", []byte("hello"), "read image archive"},
		{"no manifest", tar1("x", "y"), "no manifest.json"},
		{"two images", tar1("manifest.json", `[{},{}]`), "has 2 images"},
		{"config missing", tar1("manifest.json", `[{"Config":"c.json","Layers":["a/layer.tar"]}]`), "config c.json missing"},
	}
	for _, tt := range tests {
		_, err := indexArchive(bytes.NewReader(tt.archive))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestSharedPrefix(t *testing.T) {
	img := []string{"A", "B", "C", "D"}
	tests := []struct {
		name string
		host [][]string
		want int
	}{
		{"empty host", nil, 0},
		{"unrelated", [][]string{{"X", "Y"}}, 0},
		{"same base", [][]string{{"A", "X"}}, 1},
		{"previous version", [][]string{{"A", "B", "C", "E"}}, 3},
		{"best of several", [][]string{{"A"}, {"A", "B", "X"}, {"Z"}}, 2},
		{"identical", [][]string{{"A", "B", "C", "D"}}, 4},
		{"longer image on host", [][]string{{"A", "B", "C", "D", "E"}}, 4},
		// B and C exist on the host, but not on top of A: not a chain.
		{"digest without chain", [][]string{{"X", "B", "C"}, {"B", "C"}}, 0},
		{"empty image on host", [][]string{{}}, 0},
	}
	for _, tt := range tests {
		if got := SharedPrefix(img, tt.host); got != tt.want {
			t.Errorf("%s: SharedPrefix = %d, want %d", tt.name, got, tt.want)
		}
	}
	if got := SharedPrefix(nil, [][]string{{"A"}}); got != 0 {
		t.Errorf("empty image: %d", got)
	}
}

func TestParseHostLine(t *testing.T) {
	id, layers, tags, err := parseHostLine(`"sha256:ab" ["sha256:1","sha256:2"] ["app:v1","app:latest"]`)
	if err != nil || id != "sha256:ab" || len(layers) != 2 || len(tags) != 2 {
		t.Fatalf("got %q %v %v %v", id, layers, tags, err)
	}
	if _, _, tags, err := parseHostLine(`"sha256:ab" [] null`); err != nil || tags != nil {
		t.Fatalf("untagged: %v %v", tags, err)
	}
	for _, bad := range []string{``, `"x" [] []`, `"sha256:a" {}`, `"sha256:a" []`} {
		if _, _, _, err := parseHostLine(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
