package sidecar

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// apiResult is the engine's result as the API reports it.
func apiResult(r *swap.Result) *contract.Result {
	if r == nil {
		return &contract.Result{}
	}
	return &contract.Result{Version: r.Version, Container: r.Container, Duration: contract.Duration(r.Total),
		Cutover: contract.Duration(r.Cutover), Pruned: r.Pruned, Warnings: r.Warnings}
}

// apiError maps the engine's errors to API errors with codes: the failed
// step and green's last log lines of a *swap.StepError, and a code for each
// of swap's sentinels.
func apiError(err error) *contract.Error {
	e := &contract.Error{Code: contract.CodeDeployFailed, Message: err.Error()}
	var se *swap.StepError
	if errors.As(err, &se) {
		e.Step = se.Step
		e.Message = fmt.Sprintf("swap step %s of %s: %v", se.Step, se.Container, se.Err)
		if logs := strings.TrimRight(se.Logs, "\n"); logs != "" {
			e.Logs = strings.Split(logs, "\n")
		}
	}
	switch {
	case errors.Is(err, swap.ErrNotRetained):
		e.Code = contract.CodeNotFound
	case errors.Is(err, swap.ErrBusy):
		e.Code = contract.CodeConflict
	case errors.Is(err, swap.ErrImageMissing):
		e.Code = contract.CodeImageMissing
	case errors.Is(err, swap.ErrImageMismatch):
		e.Code = contract.CodeImageID
	}
	return e
}

// errSummary is err without the container logs an API error may carry:
// what the journal, the audit log and /v1/status keep.
func errSummary(err error) string {
	var e *contract.Error
	if errors.As(err, &e) && e.Message != "" {
		if e.Step != "" && !strings.Contains(e.Message, e.Step) {
			return e.Message + " (step " + e.Step + ")"
		}
		return e.Message
	}
	return err.Error()
}

// swapError is e as the stream's final error, naming step (the last one
// begun) when e names none.
func swapError(e *contract.Error, step string) *contract.Error {
	c := *e
	if c.Step == "" {
		c.Step = step
	}
	return &c
}
