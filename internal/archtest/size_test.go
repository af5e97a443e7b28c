package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// Limits from the project's standards: a function that needs more than 80
// lines does more than one thing, and a file past 500 lines holds more than
// one noun.
const (
	maxFuncLines = 80
	maxFileLines = 500
)

// TestSizes holds every non-test file of pkg/, plugin/ and sidecar/ to the
// limits, so a long function fails CI where it is added.
func TestSizes(t *testing.T) {
	fset := token.NewFileSet()
	files := 0
	for _, root := range []string{"../../pkg", "../../plugin", "../../sidecar"} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			files++
			rel, _ := filepath.Rel("../..", p)
			if n := fset.File(f.Pos()).LineCount(); n > maxFileLines {
				t.Errorf("%s has %d lines (limit %d): split it by meaning", rel, n, maxFileLines)
			}
			for _, decl := range f.Decls {
				fd, ok := decl.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				start, end := fset.Position(fd.Pos()).Line, fset.Position(fd.End()).Line
				if n := end - start + 1; n > maxFuncLines {
					t.Errorf("%s:%d %s has %d lines (limit %d)", rel, start, fd.Name.Name, n, maxFuncLines)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 50 {
		t.Fatalf("walked only %d files: wrong roots?", files)
	}
}
