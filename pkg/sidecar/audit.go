package sidecar

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// auditFile is the audit log's name in the state dir.
const auditFile = "audit.log"

// maxAuditRead bounds how much of the log's end Tail reads.
const maxAuditRead = 8 << 20

// Audit is the host's append-only audit log: one JSON object per line.
// Entries never carry secret values: callers pass names and versions only.
type Audit struct {
	path string
	now  func() time.Time

	mu sync.Mutex
}

// NewAudit returns the audit log in stateDir.
func NewAudit(stateDir string, now func() time.Time) *Audit {
	if now == nil {
		now = time.Now
	}
	return &Audit{path: filepath.Join(stateDir, auditFile), now: now}
}

// Append writes one entry, stamping its time when unset, and returns it.
func (a *Audit) Append(e contract.AuditEntry) (contract.AuditEntry, error) {
	if e.Time.IsZero() {
		e.Time = a.now().UTC()
	}
	line, err := json.Marshal(e)
	if err != nil {
		return e, fmt.Errorf("encode audit entry: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(a.path), 0o700); err != nil {
		return e, fmt.Errorf("create audit dir: %w", err)
	}
	f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return e, fmt.Errorf("open audit log: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		_ = f.Close() // failing already: the write error is the one to report
		return e, fmt.Errorf("append audit log: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close() // failing already: the sync error is the one to report
		return e, fmt.Errorf("sync audit log: %w", err)
	}
	if err := f.Close(); err != nil {
		return e, fmt.Errorf("close audit log: %w", err)
	}
	return e, nil
}

// Tail returns the last limit entries, oldest first. Lines that do not
// decode (a torn last line after a crash) are skipped.
func (a *Audit) Tail(limit int) ([]contract.AuditEntry, error) {
	a.mu.Lock()
	data, err := readTail(a.path, maxAuditRead)
	a.mu.Unlock()
	if errors.Is(err, fs.ErrNotExist) {
		return []contract.AuditEntry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	var out []contract.AuditEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e contract.AuditEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		out = append(out, e)
		if limit > 0 && len(out) > 2*limit {
			out = append(out[:0], out[len(out)-limit:]...)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scan audit log: %w", err)
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	if out == nil {
		out = []contract.AuditEntry{}
	}
	return out, nil
}

// readTail reads at most max bytes from the end of path, starting at a
// line boundary.
func readTail(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only: closing cannot lose data
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := info.Size() - max
	if off <= 0 {
		return io.ReadAll(f)
	}
	data := make([]byte, max)
	n, err := f.ReadAt(data, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	data = data[:n]
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[i+1:]
	}
	return data, nil
}
