package sidecar

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// jsonPaths are the endpoints that take a JSON body.
var jsonPaths = []string{contract.PathApply, contract.PathRollback, contract.PathRoleStop, contract.PathRoleStart,
	contract.PathLockAcquire, contract.PathLockRelease, contract.PathAudit, contract.PathTraefikBoot, contract.PathMaintenance}

// postOnly are the JSON endpoints with no GET (the audit log has one).
var postOnly = []string{contract.PathApply, contract.PathRollback, contract.PathRoleStop, contract.PathRoleStart,
	contract.PathLockAcquire, contract.PathLockRelease, contract.PathTraefikBoot, contract.PathMaintenance}

// lockHolders are the two clients that contend for the deploy lock.
var lockHolders = []string{"alice", "bob"}

// Request kinds of a fuzzed sequence; a byte b is kind b%numKinds with
// argument b/numKinds.
const (
	kindApply = iota
	kindRollback
	kindStop
	kindStart
	kindLockAcquire
	kindLockRelease
	kindMalformed
	kindOversized
	kindDuringSwap
	kindBadRoute
	kindSplice
	kindRaw
	numKinds
)

// maxSeqLen bounds the requests of one fuzzed sequence.
const maxSeqLen = 24

// version is one of v1..vn, chosen by arg.
func version(arg, n int) string { return fmt.Sprintf("v%d", arg%n+1) }

// oversized is a JSON body one byte past every JSON endpoint's limit (and
// a little more, which the server drains rather than resetting the
// connection).
func oversized() []byte {
	return []byte(`{"holder":"` + strings.Repeat("x", contract.MaxBodySize) + `"}`)
}

// step sends the request of kind with arg (and the fuzzer's body where
// the kind uses one), and checks the answer the fake host's state calls
// for.
func (d *apiDriver) step(kind, arg int, body string) {
	d.t.Helper()
	switch kind {
	case kindApply:
		v := version(arg, 3)
		a := d.apply(v)
		d.want(a, "apply "+v, http.StatusOK, "")
		if a.err != nil || a.result.Version != v || d.h.route(webRole) != "app-web-"+v {
			d.t.Fatalf("apply %s: %+v %v, route %s", v, a.result, a.err, d.h.route(webRole))
		}
	case kindRollback:
		v := version(arg, 4) // v4 is never deployed
		if d.retained(v) {
			d.want(d.rollback(v), "rollback to retained "+v, http.StatusOK, "")
		} else {
			d.want(d.rollback(v), "rollback to "+v+", not retained", http.StatusNotFound, contract.CodeNotFound)
		}
	case kindStop, kindStart:
		path := map[int]string{kindStop: contract.PathRoleStop, kindStart: contract.PathRoleStart}[kind]
		if d.s.table.get(webRole).LiveContainer == "" {
			d.want(d.roleOp(path), path+" with nothing deployed", http.StatusNotFound, contract.CodeNotFound)
		} else {
			d.want(d.roleOp(path), path, http.StatusOK, "")
		}
	case kindLockAcquire, kindLockRelease:
		d.lockStep(kind, lockHolders[arg%len(lockHolders)])
	case kindMalformed:
		d.send(http.MethodPost, jsonPaths[arg%len(jsonPaths)], []byte(body))
	case kindOversized:
		path := jsonPaths[arg%len(jsonPaths)]
		d.want(d.send(http.MethodPost, path, oversized()), "oversized "+path, http.StatusRequestEntityTooLarge, contract.CodeTooLarge)
	case kindDuringSwap:
		d.duringSwap(version(arg, 3), func() { d.conflicting(arg / 3) })
	case kindBadRoute:
		d.want(d.send(http.MethodGet, postOnly[arg%len(postOnly)], nil), "GET on a POST endpoint", http.StatusMethodNotAllowed, contract.CodeUnsupported)
		d.want(d.send(http.MethodPost, "/v1/nope/"+url.PathEscape(body), []byte(body)), "unknown path", http.StatusNotFound, contract.CodeNotFound)
	case kindRaw:
		// Raw bytes, with a request line when arg asks for one, so the
		// fuzzer reaches both the HTTP parser and the handlers.
		prefix := []string{"", "POST " + jsonPaths[arg%len(jsonPaths)] + " HTTP/1.1\r\nHost: s\r\n"}[arg%2]
		d.raw([]byte(prefix + body))
	case kindSplice:
		at := arg * len(validApply) / (256 / numKinds)
		d.send(http.MethodPost, contract.PathApply, []byte(validApply[:at]+body+validApply[at:]))
	}
}

// lockStep takes or frees the lock as holder; another holder's lock is a
// conflict that changes nothing.
func (d *apiDriver) lockStep(kind int, holder string) {
	d.t.Helper()
	st, err := d.s.lock.Status()
	if err != nil {
		d.t.Fatal(err)
	}
	other := st.Locked && st.Holder != holder
	switch {
	case kind == kindLockAcquire && other:
		d.want(d.lock(contract.PathLockAcquire, holder), holder+" takes a held lock", http.StatusConflict, contract.CodeLockHeld)
	case kind == kindLockRelease && other:
		d.want(d.lock(contract.PathLockRelease, holder), holder+" frees another's lock", http.StatusConflict, contract.CodeLockNotOwned)
	case kind == kindLockAcquire:
		d.want(d.lock(contract.PathLockAcquire, holder), holder+" takes the lock", http.StatusOK, "")
	default:
		d.want(d.lock(contract.PathLockRelease, holder), holder+" frees the lock", http.StatusOK, "")
	}
}

// conflicting sends, while a swap is under way, a request that would
// start another operation on the same role: always a 409.
func (d *apiDriver) conflicting(which int) {
	d.t.Helper()
	var a answer
	what := ""
	switch which % 4 {
	case 0:
		what, a = "apply", d.apply("v2")
	case 1:
		what, a = "rollback", d.rollback("v1")
	case 2:
		what, a = "stop", d.roleOp(contract.PathRoleStop)
	default:
		what, a = "start", d.roleOp(contract.PathRoleStart)
	}
	d.want(a, what+" during a swap", http.StatusConflict, contract.CodeConflict)
}

// run plays a fuzzed sequence: each byte of ops is one request.
func (d *apiDriver) run(ops []byte, body string) {
	d.t.Helper()
	if len(ops) > maxSeqLen {
		ops = ops[:maxSeqLen]
	}
	for _, b := range ops {
		d.step(int(b)%numKinds, int(b)/numKinds, body)
	}
}

// seq builds a fuzz sequence from kinds and arguments.
func seq(steps ...[2]int) []byte {
	out := make([]byte, len(steps))
	for i, s := range steps {
		out[i] = byte(s[1]*numKinds + s[0])
	}
	return out
}

// FuzzAPISequence drives the API over its unix socket with a fuzzed
// sequence of well-formed, malformed, oversized and out-of-order requests,
// swaps started while another runs and rollbacks to versions the host does
// not have. Every answer is a 2xx or a JSON 4xx, never a panic or a 5xx,
// and a refused request leaves the host and the journal unchanged.
func FuzzAPISequence(f *testing.F) {
	f.Add(seq([2]int{kindStop, 0}, [2]int{kindRollback, 0}, [2]int{kindApply, 0}, [2]int{kindApply, 1},
		[2]int{kindRollback, 3}, [2]int{kindRollback, 0}, [2]int{kindStop, 0}, [2]int{kindStart, 0}), `{"service":`)
	f.Add(seq([2]int{kindApply, 0}, [2]int{kindDuringSwap, 1}, [2]int{kindDuringSwap, 4}, [2]int{kindDuringSwap, 7},
		[2]int{kindDuringSwap, 10}), `null`)
	f.Add(seq([2]int{kindLockAcquire, 0}, [2]int{kindLockAcquire, 1}, [2]int{kindLockRelease, 1}, [2]int{kindLockRelease, 0},
		[2]int{kindLockRelease, 0}), `{"holder":"a","force":"yes"}`)
	f.Add(seq([2]int{kindOversized, 0}, [2]int{kindOversized, 4}, [2]int{kindMalformed, 1}, [2]int{kindMalformed, 8},
		[2]int{kindBadRoute, 2}), `{"role":"web"}{}`)
	f.Add(seq([2]int{kindSplice, 3}, [2]int{kindSplice, 10}, [2]int{kindSplice, 20}), `"x":[1,{"y":`)
	f.Add(seq([2]int{kindRaw, 0}, [2]int{kindRaw, 1}, [2]int{kindRaw, 3}), "Content-Length: 99999999999\r\n\r\n{")
	f.Add(seq([2]int{kindApply, 0}, [2]int{kindRaw, 1}), "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}")
	f.Fuzz(func(t *testing.T, ops []byte, body string) {
		newAPIDriver(t).run(ops, body)
	})
}

// TestAPIRefusesOutOfOrder: requests that make no sense in the host's
// state are refused with the right 4xx over the socket, and change nothing.
func TestAPIRefusesOutOfOrder(t *testing.T) {
	tests := []struct {
		name  string
		setup func(d *apiDriver)
		send  func(d *apiDriver) answer
		code  string
	}{
		{"stop before any deploy", nil, func(d *apiDriver) answer { return d.roleOp(contract.PathRoleStop) }, contract.CodeNotFound},
		{"start before any deploy", nil, func(d *apiDriver) answer { return d.roleOp(contract.PathRoleStart) }, contract.CodeNotFound},
		{"rollback before any deploy", nil, func(d *apiDriver) answer { return d.rollback("v1") }, contract.CodeNotFound},
		{"rollback to a version not retained", deployed("v1", "v2"), func(d *apiDriver) answer { return d.rollback("v3") }, contract.CodeNotFound},
		{"take another's lock", locked("alice"), func(d *apiDriver) answer { return d.lock(contract.PathLockAcquire, "bob") }, contract.CodeLockHeld},
		{"free another's lock", locked("alice"), func(d *apiDriver) answer { return d.lock(contract.PathLockRelease, "bob") }, contract.CodeLockNotOwned},
		{"oversized apply", deployed("v1"), func(d *apiDriver) answer { return d.send(http.MethodPost, contract.PathApply, oversized()) }, contract.CodeTooLarge},
		{"apply with a second document", deployed("v1"), func(d *apiDriver) answer {
			return d.send(http.MethodPost, contract.PathApply, []byte(validApply+`{"version":"v9"}`))
		}, contract.CodeBadRequest},
		{"apply of no JSON", deployed("v1"), func(d *apiDriver) answer { return d.send(http.MethodPost, contract.PathApply, []byte("\x00\xff")) }, contract.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newAPIDriver(t)
			if tt.setup != nil {
				tt.setup(d)
			}
			auditBefore, err := d.s.audit.Tail(0)
			if err != nil {
				t.Fatal(err)
			}
			a := tt.send(d) // send checks that the host is unchanged
			if a.status < 400 || a.status >= 500 || a.err == nil || a.err.Code != tt.code || a.status != statusFor(tt.code) {
				t.Fatalf("answer %d %+v, want %d %s", a.status, a.err, statusFor(tt.code), tt.code)
			}
			auditAfter, err := d.s.audit.Tail(0)
			if err != nil {
				t.Fatal(err)
			}
			// A refused lock is audited (who tried); nothing else is.
			if grew := len(auditAfter) - len(auditBefore); grew != 0 && !strings.HasPrefix(tt.code, "lock") {
				t.Errorf("a refused request added %d audit entries: %+v", grew, auditAfter[len(auditBefore):])
			}
		})
	}
}

// TestAPIRefusesSwapDuringSwap: while a deploy runs, every other operation
// on the role is a 409 that changes nothing, and the deploy completes.
func TestAPIRefusesSwapDuringSwap(t *testing.T) {
	d := newAPIDriver(t)
	d.step(kindApply, 0, "")
	for which := range 4 {
		d.duringSwap("v2", func() { d.conflicting(which) })
		if got := d.h.route(webRole); got != "app-web-v2" {
			t.Fatalf("after the gated deploy the route is %q, want app-web-v2", got)
		}
	}
}

func deployed(versions ...string) func(*apiDriver) {
	return func(d *apiDriver) {
		for _, v := range versions {
			d.want(d.apply(v), "apply "+v, http.StatusOK, "")
		}
	}
}

func locked(holder string) func(*apiDriver) {
	return func(d *apiDriver) { d.want(d.lock(contract.PathLockAcquire, holder), "lock", http.StatusOK, "") }
}
