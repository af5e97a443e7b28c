package sidecar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

func TestAuditAppendTail(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	dir := t.TempDir()
	a := NewAudit(dir, func() time.Time { return now })
	for i, action := range []string{"lock", "deploy", "unlock"} {
		if _, err := a.Append(contract.AuditEntry{Who: "alice", Action: action, What: "app/web v" + string(rune('1'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	// A torn line (crash mid-write) is skipped, later lines still read.
	f, err := os.OpenFile(filepath.Join(dir, auditFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"who":"x","act` + "\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := a.Append(contract.AuditEntry{Who: "bob", Action: "rollback"}); err != nil {
		t.Fatal(err)
	}

	all, err := a.Tail(0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range all {
		got = append(got, e.Who+":"+e.Action)
		if !e.Time.Equal(now) {
			t.Errorf("entry %s time = %v, want %v", e.Action, e.Time, now)
		}
	}
	if strings.Join(got, ",") != "alice:lock,alice:deploy,alice:unlock,bob:rollback" {
		t.Errorf("entries = %v", got)
	}
	last2, err := a.Tail(2)
	if err != nil || len(last2) != 2 || last2[0].Action != "unlock" || last2[1].Action != "rollback" {
		t.Errorf("Tail(2) = %+v, %v", last2, err)
	}
	info, err := os.Stat(filepath.Join(dir, auditFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode = %v, %v; want 0600", info.Mode(), err)
	}
}

func TestReadTailStartsAtLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("aaaa\nbbbb\ncccc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readTail(p, 8)
	if err != nil || string(got) != "cccc\n" {
		t.Errorf("readTail = %q, %v", got, err)
	}
	got, err = readTail(p, 100)
	if err != nil || string(got) != "aaaa\nbbbb\ncccc\n" {
		t.Errorf("readTail whole = %q, %v", got, err)
	}
}
