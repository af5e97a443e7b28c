package sidecar

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// roleTable is the in-memory view of the journal plus which roles have an
// operation under way. Every change goes through update, which journals it
// before it becomes visible.
type roleTable struct {
	j *Journal

	mu   sync.Mutex
	recs map[contract.Role]*RoleRecord
	busy map[contract.Role]string
	// ended has a channel per busy role, closed when its operation ends.
	ended map[contract.Role]chan struct{}
	// waiting counts the callers of waitIdle still waiting (tests).
	waiting int
}

func newRoleTable(j *Journal) *roleTable {
	return &roleTable{j: j, recs: map[contract.Role]*RoleRecord{}, busy: map[contract.Role]string{},
		ended: map[contract.Role]chan struct{}{}}
}

// load reads the journal into memory.
func (t *roleTable) load() error {
	recs, err := t.j.All()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range recs {
		t.recs[r.Role] = r
	}
	return err
}

// begin marks r busy with action; the returned func (idempotent) ends it. A role
// already busy is an *Error with CodeConflict.
func (t *roleTable) begin(r contract.Role, action string) (func(), error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur, ok := t.busy[r]; ok {
		return nil, &contract.Error{Status: http.StatusConflict, Code: contract.CodeConflict,
			Message: fmt.Sprintf("%s: a %s is already under way on this host", r, cur)}
	}
	t.busy[r] = action
	ended := make(chan struct{})
	t.ended[r] = ended
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			delete(t.busy, r)
			delete(t.ended, r)
			t.mu.Unlock()
			close(ended)
		})
	}, nil
}

// waitIdle returns once r has no operation under way, or ctx ends (false).
func (t *roleTable) waitIdle(ctx context.Context, r contract.Role) bool {
	for {
		t.mu.Lock()
		ended, busy := t.ended[r]
		if busy {
			t.waiting++
		}
		t.mu.Unlock()
		if !busy {
			return true
		}
		var done bool
		select {
		case <-ended:
		case <-ctx.Done():
			done = true
		}
		t.mu.Lock()
		t.waiting--
		t.mu.Unlock()
		if done {
			return false
		}
	}
}

// get returns a copy of r's record, or a fresh one.
func (t *roleTable) get(r contract.Role) RoleRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rec, ok := t.recs[r]; ok {
		return copyRecord(rec)
	}
	return RoleRecord{Role: r}
}

// update applies fn to a copy of r's record, journals it, and then makes it
// visible. On a journal error the in-memory record is unchanged.
func (t *roleTable) update(r contract.Role, fn func(*RoleRecord)) (RoleRecord, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rec := RoleRecord{Role: r}
	if cur, ok := t.recs[r]; ok {
		rec = copyRecord(cur)
	}
	fn(&rec)
	rec.Role = r
	if err := t.j.Save(&rec); err != nil {
		return rec, err
	}
	stored := copyRecord(&rec)
	t.recs[r] = &stored
	return rec, nil
}

// list returns copies of all records, sorted by role.
func (t *roleTable) list() []RoleRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]RoleRecord, 0, len(t.recs))
	for _, rec := range t.recs {
		out = append(out, copyRecord(rec))
	}
	sortRecords(out)
	return out
}

// busyStep is the action under way on r, if any.
func (t *roleTable) busyAction(r contract.Role) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.busy[r]
}

func sortRecords(recs []RoleRecord) {
	for i := 1; i < len(recs); i++ {
		for k := i; k > 0 && roleLess(recs[k].Role, recs[k-1].Role); k-- {
			recs[k], recs[k-1] = recs[k-1], recs[k]
		}
	}
}

// copyRecord copies rec deeply enough that callers may mutate the copy's
// Swap without touching the stored record (specs are never mutated).
func copyRecord(rec *RoleRecord) RoleRecord {
	c := *rec
	if rec.Swap != nil {
		s := *rec.Swap
		c.Swap = &s
	}
	return c
}

// waiters is how many callers of waitIdle wait.
func (t *roleTable) waiters() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.waiting
}
