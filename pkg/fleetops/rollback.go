package fleetops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/fleet"
)

// Rollback returns the fleet to version, one every host retains (""
// for the newest retained one that is not live), all hosts at once, under
// the deploy lock (waiting up to lockWait for it).
func (s *Session) Rollback(ctx context.Context, version string, lockWait time.Duration) error {
	plan, err := s.plan()
	if err != nil {
		return err
	}
	if version, err = s.rollbackVersion(ctx, plan, version); err != nil {
		return s.failedEarly(ctx, verbRollback, version, hostsOf(plan.Targets()), err)
	}
	s.out.Phase("Rolling back %s to %s on %s", s.Cfg.Service, version, strings.Join(hostsOf(plan.Targets()), ", "))
	lk := &locker{s: s, wait: lockWait}
	if err := lk.Acquire(ctx, "rollback to "+version, version); err != nil {
		return s.failedEarly(ctx, verbRollback, version, hostsOf(plan.Targets()), fmt.Errorf("acquire deploy lock: %w", err))
	}
	rep, err := s.rollbackWithHooks(ctx, plan, version)
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	result := "success"
	if err != nil {
		result = "failed: " + err.Error()
	}
	if aerr := (auditor{s}).Audit(cleanup, verbRollback, version, s.out.Redact(result)); aerr != nil {
		s.out.Error("warning: write audit log: %v", aerr)
	}
	if rerr := lk.Release(cleanup); rerr != nil {
		err = errors.Join(err, fmt.Errorf("release deploy lock: %w", rerr))
	}
	err = describeLost(err, hostsOf(plan.Targets()), rep, version)
	s.summary(verbRollback, version, hostsOf(plan.Targets()), rep, 0, err)
	return err
}

// rollbackVersion checks that every host retains version, or picks the
// newest retained one that is not live when version is "".
func (s *Session) rollbackVersion(ctx context.Context, plan fleet.Plan, version string) (string, error) {
	available, err := s.retainedVersions(ctx, plan)
	if err != nil {
		return "", err
	}
	if version != "" {
		if !slices.Contains(available, version) {
			return "", fmt.Errorf("rollback: version %s is not retained on every host; available: %s", version, strings.Join(available, ", "))
		}
		return version, nil
	}
	live, err := s.liveVersion(ctx, plan.Targets()[0])
	if err != nil {
		return "", err
	}
	for _, v := range available {
		if v != live {
			return v, nil
		}
	}
	return "", fmt.Errorf("rollback: no previous version is retained on every host (live: %s)", live)
}

// retainedVersions are the versions every target of the plan holds, newest
// first (by the first target's order). The targets are asked at once.
func (s *Session) retainedVersions(ctx context.Context, plan fleet.Plan) ([]string, error) {
	targets := plan.Targets()
	lists := make([][]string, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lists[i], errs[i] = s.versionsOf(ctx, t)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var common []string
	for i, list := range lists {
		if i == 0 {
			common = list
			continue
		}
		common = slices.DeleteFunc(common, func(v string) bool { return !slices.Contains(list, v) })
	}
	return common, nil
}

// versionsOf lists the versions t's sidecar retains, newest first.
func (s *Session) versionsOf(ctx context.Context, t fleet.Target) ([]string, error) {
	cl, err := s.sidecar(ctx, t.Host)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, sidecarCallTimeout)
	defer cancel()
	vs, err := cl.Versions(cctx, s.role(t.Role))
	if err != nil {
		return nil, fmt.Errorf("list versions of %s: %w", t, err)
	}
	var list []string
	for _, v := range vs.Versions {
		list = append(list, v.Version)
	}
	return list, nil
}

// prepareRollbackAssets bridges the target version's assets on every host
// before any host switches back (see assetPreparer).
func (s *Session) prepareRollbackAssets(ctx context.Context, plan fleet.Plan, version string) error {
	if !s.Cfg.HasAssets() {
		return nil
	}
	if err := (assetPreparer{s: s, plan: plan}).Prepare(ctx, version); err != nil {
		return fmt.Errorf("prepare assets: %w", err)
	}
	return nil
}
