package output

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLevelsAndRedaction(t *testing.T) {
	for _, tt := range []struct {
		level                 Level
		wantStep, wantVerbose bool
	}{{Quiet, false, false}, {Normal, true, false}, {Verbose, true, true}} {
		var out, errb bytes.Buffer
		p := New(&out, &errb, tt.level, []string{"s3cr3t-value", "ab"})
		p.Step("h1", "deploy web", "done", 1500*time.Millisecond)
		p.Verbose("docker run -e PASSWORD=s3cr3t-value")
		p.Error("failed: token s3cr3t-value rejected")
		if got := strings.Contains(out.String(), "[h1] deploy web: done (1.5s)"); got != tt.wantStep {
			t.Fatalf("level %d: step shown=%v: %q", tt.level, got, out.String())
		}
		if got := strings.Contains(out.String(), "docker run"); got != tt.wantVerbose {
			t.Fatalf("level %d: verbose shown=%v", tt.level, got)
		}
		all := out.String() + errb.String()
		if strings.Contains(all, "s3cr3t-value") {
			t.Fatalf("secret printed: %q", all)
		}
		if !strings.Contains(errb.String(), "token [REDACTED] rejected") {
			t.Fatalf("error not printed redacted: %q", errb.String())
		}
	}
}

func TestRedactorMasksLongestFirst(t *testing.T) {
	r := NewRedactor([]string{"hunter2", "hunter22", "x"})
	if got := r.Redact("a=hunter2 b=hunter22 c=x"); got != "a=[REDACTED] b=[REDACTED] c=x" {
		t.Fatalf("redact = %q", got)
	}
}

func TestLastLines(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"  only\n\n", 5, "only"},
		{"", 3, ""},
	} {
		if got := LastLines(tt.in, tt.n); got != tt.want {
			t.Errorf("LastLines(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
