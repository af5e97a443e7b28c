package railsinit

import (
	"fmt"
	"strings"
)

// maxDiffLines bounds the quadratic line diff; larger files get the whole
// suggestion instead.
const maxDiffLines = 2000

// diffContext is how many unchanged lines surround each change.
const diffContext = 2

// Diff renders a unified-style line diff from old to new ("-" lines are in
// the existing file only, "+" lines in the suggestion only). It returns ""
// when they are equal.
func Diff(oldName, newName, old, new string) string {
	if old == new {
		return ""
	}
	a, b := splitLines(old), splitLines(new)
	var b2 strings.Builder
	fmt.Fprintf(&b2, "--- %s\n+++ %s\n", oldName, newName)
	if len(a) > maxDiffLines || len(b) > maxDiffLines {
		for _, l := range b {
			b2.WriteString("+" + l + "\n")
		}
		return b2.String()
	}
	ops := lineOps(a, b)
	// Print changed lines with diffContext unchanged lines around them.
	show := make([]bool, len(ops))
	for i, op := range ops {
		if op.kind != ' ' {
			for j := max(0, i-diffContext); j <= min(len(ops)-1, i+diffContext); j++ {
				show[j] = true
			}
		}
	}
	gap := false
	for i, op := range ops {
		if !show[i] {
			gap = true
			continue
		}
		if gap {
			b2.WriteString("@@\n")
			gap = false
		}
		b2.WriteString(string(op.kind) + op.text + "\n")
	}
	return b2.String()
}

type lineOp struct {
	kind byte // ' ', '-', '+'
	text string
}

// lineOps is a longest-common-subsequence edit script.
func lineOps(a, b []string) []lineOp {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []lineOp
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			ops = append(ops, lineOp{' ', a[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			ops = append(ops, lineOp{'-', a[i]})
			i++
		default:
			ops = append(ops, lineOp{'+', b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, lineOp{'-', a[i]})
	}
	for ; j < m; j++ {
		ops = append(ops, lineOp{'+', b[j]})
	}
	return ops
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
