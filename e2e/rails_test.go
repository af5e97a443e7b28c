package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// What v2 and v3 of the example change, as a developer would.
const (
	// railsV2Migration is v2's new migration: with two web hosts it must
	// run exactly once.
	railsV2MigrationVersion = "20250601000003"
	railsV2Migration        = `class AddDoneToNotes < ActiveRecord::Migration[7.2]
  def change
    add_column :notes, :done, :boolean, default: false, null: false
  end
end
`
	// railsV3Bug points v3 at a Redis that is not there: its /up answers
	// 503, so it must never receive traffic.
	railsV3Bug = `# v3's bug: Redis on localhost instead of REDIS_URL.
Rails.application.config.x.redis_url = "redis://127.0.0.1:6399/0"
`
)

// TestRails deploys the example Rails app (examples/rails) with the config
// Rails 8 generates (config/deploy.yml: proxy, asset_path, volumes,
// builder.arch, aliases, a registry) to three hosts, under load through
// Traefik: issue 13's checks, in order.
func TestRails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 35*time.Minute)
	defer cancel()
	r := startRailsFleet(t, ctx, "", harness.RailsHost, true)
	versions := map[string][]string{}

	if !t.Run("setup builds, pushes and deploys v1", func(t *testing.T) {
		r.setVersion(t, "v1", nil)
		res := r.kamal("setup", "--version", "v1").must(t)
		t.Logf("setup + build + deploy v1 took %v", res.took.Round(time.Millisecond))
		r.waitVersion(t, "v1")
		r.bootTimes(t, "v1")
		versions["v1"] = r.assets(t, r.web1, "v1")
	}) {
		return
	}

	if !t.Run("deploy v2 under load, 0 failed requests", func(t *testing.T) {
		r.setVersion(t, "v2", map[string]string{"db/migrate/" + railsV2MigrationVersion + "_add_done_to_notes.rb": railsV2Migration})
		build := r.kamal("build", "push", "--version", "v2").must(t)
		t.Logf("build + push v2 took %v", build.took.Round(time.Millisecond))
		load := r.startLoad(t)
		probe := r.startAssetProbe(map[string][]string{"v1": versions["v1"]})
		res := r.kamal("deploy", "--skip-push", "--version", "v2")
		last := load.stop(t, "deploy v2")
		res.must(t)
		t.Logf("deploy v2 (image pushed) took %v", res.took.Round(time.Millisecond))
		for _, v := range last {
			if v != "v2" {
				t.Errorf("after deploy v2 the load last saw %q", v)
			}
		}
		r.bootTimes(t, "v2")
		versions["v2"] = r.assets(t, r.web2, "v2")
		if versions["v1"][0] == versions["v2"][0] {
			t.Errorf("v1 and v2 link the same stylesheet %s; each version's assets must differ", versions["v1"][0])
		}
		probe.finish(t, "deploy v2", versions["v1"], versions["v2"])
	}) {
		return
	}

	t.Run("assets of v1 and v2 answer 200 after the deploy", func(t *testing.T) {
		r.checkAssets(t, versions)
	})

	t.Run("two web hosts ran the migration exactly once", func(t *testing.T) {
		logs := r.logsOf(t, "web", r.webHosts()...)
		for name, l := range logs {
			if strings.Contains(l, "ConcurrentMigrationError") {
				t.Errorf("%s hit ConcurrentMigrationError:\n%s", name, l)
			}
		}
		if runs := migrationRuns(logs); runs[railsV2MigrationVersion] != 1 {
			t.Errorf("migration %s ran %d times across the web hosts (%v); want once", railsV2MigrationVersion, runs[railsV2MigrationVersion], runs)
		}
		got := r.psql(t, "rails_demo_production", "SELECT version || '=' || count(*) FROM schema_migrations GROUP BY version ORDER BY version")
		want := "20250601000001=1\n20250601000002=1\n" + railsV2MigrationVersion + "=1"
		if got != want {
			t.Errorf("schema_migrations:\n%s\nwant each migration recorded once:\n%s", got, want)
		}
	})

	t.Run("the job role works a job web enqueued", func(t *testing.T) {
		run := r.enqueueJob(t)
		if run["worker_version"] != "v2" || run["worker_host"] != r.jobHostname(t, "v2") {
			t.Errorf("job record %v; want worked by the v2 job container %s", run, r.jobHostname(t, "v2"))
		}
	})

	t.Run("app exec bin/rails runner", func(t *testing.T) {
		out := r.kamal("app", "exec", "--primary", `bin/rails runner 'puts "notes=#{Note.count} #{Rails.application.credentials.dig(:example, :greeting)}"'`).must(t).out
		if !strings.Contains(out, "notes=3 hello from the encrypted credentials") {
			t.Errorf("bin/rails runner printed:\n%s", out)
		}
	})

	t.Run("console alias evaluates Ruby through a pty", func(t *testing.T) {
		code, screen := r.console(t, `puts "sum=#{20 + 22} #{Rails.configuration.x.version}"`, "sum=42 v2")
		if code != 0 {
			t.Errorf("console exited %d; screen:\n%s", code, screen)
		}
	})

	t.Run("pg_dump backup restores into a fresh database with the same rows", func(t *testing.T) {
		want := r.dataChecksum(t, "rails_demo_production")
		fresh := r.backupRestore(t)
		if got := r.dataChecksum(t, fresh); got != want {
			t.Errorf("restored database %q; want %q", got, want)
		}
		if !strings.HasPrefix(want, "3:") || !strings.Contains(want, "/1:") {
			t.Errorf("checksum %q: want 3 notes and 1 job run", want)
		}
	})

	if !t.Run("rollback to v1 under load, 0 failed requests", func(t *testing.T) {
		load := r.startLoad(t)
		probe := r.startAssetProbe(versions)
		res := r.kamal("rollback", "v1")
		last := load.stop(t, "rollback v1")
		probe.finish(t, "rollback v1", versions["v1"], versions["v2"])
		res.must(t)
		t.Logf("rollback to v1 took %v", res.took.Round(time.Millisecond))
		for _, v := range last {
			if v != "v1" {
				t.Errorf("after rollback the load last saw %q", v)
			}
		}
	}) {
		return
	}

	t.Run("assets of v1 and v2 answer 200 after the rollback", func(t *testing.T) {
		r.checkAssets(t, versions)
	})

	t.Run("v3 whose /up answers 503 never receives traffic", func(t *testing.T) {
		r.setVersion(t, "v3", map[string]string{"config/initializers/redis.rb": railsV3Bug})
		r.kamal("build", "push", "--version", "v3").must(t)
		load := r.startLoad(t)
		res := r.kamal("deploy", "--skip-push", "--version", "v3")
		served := load.served("v3")
		last := load.stop(t, "deploy v3")
		if res.err == nil {
			t.Fatalf("deploy of v3 (Redis unreachable) succeeded:\n%s", res.out)
		}
		if !strings.Contains(res.out, "wait-healthy") {
			t.Errorf("deploy of v3 failed for another reason than its health check:\n%s", res.out)
		}
		if served != 0 {
			t.Errorf("v3 answered %d requests; an unhealthy version must receive none", served)
		}
		for _, v := range last {
			if v != "v1" {
				t.Errorf("after the failed deploy the load last saw %q, want v1", v)
			}
		}
		status, hdr, _ := r.get(t, "GET", r.url(r.web1, "/up"))
		if status != 200 || hdr.Get("X-App-Version") != "v1" {
			t.Errorf("/up after the failed deploy: %d from %q; want 200 from v1", status, hdr.Get("X-App-Version"))
		}
	})
}

// TestRailsKamal1 deploys the same app from the Kamal 1 shape of its config
// (config/deploy.kamal1.yml: Traefik labels and args, healthcheck, memory
// options, accessories with directories; no registry, so images go over
// SSH) under load through Traefik.
func TestRailsKamal1(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	r := startRailsFleet(t, ctx, "config/deploy.kamal1.yml", "", false)
	versions := map[string][]string{}

	if !t.Run("setup ships and deploys v1", func(t *testing.T) {
		r.setVersion(t, "v1", nil)
		res := r.kamal("setup", "--version", "v1").must(t)
		t.Logf("setup + build + deploy v1 took %v", res.took.Round(time.Millisecond))
		r.waitVersion(t, "v1")
		r.bootTimes(t, "v1")
		versions["v1"] = r.assets(t, r.web1, "v1")
	}) {
		return
	}

	if !t.Run("deploy v2 under load, 0 failed requests", func(t *testing.T) {
		r.setVersion(t, "v2", map[string]string{"db/migrate/" + railsV2MigrationVersion + "_add_done_to_notes.rb": railsV2Migration})
		load := r.startLoad(t)
		res := r.kamal("deploy", "--version", "v2")
		last := load.stop(t, "deploy v2")
		res.must(t)
		t.Logf("build + deploy v2 took %v", res.took.Round(time.Millisecond))
		for _, v := range last {
			if v != "v2" {
				t.Errorf("after deploy v2 the load last saw %q", v)
			}
		}
		versions["v2"] = r.assets(t, r.web2, "v2")
	}) {
		return
	}

	t.Run("assets of v1 and v2 answer 200", func(t *testing.T) {
		r.checkAssets(t, versions)
	})

	t.Run("the job role works a job web enqueued", func(t *testing.T) {
		if run := r.enqueueJob(t); run["worker_version"] != "v2" {
			t.Errorf("job record %v; want worked by v2", run)
		}
	})

	t.Run("memory options are real limits", func(t *testing.T) {
		for _, c := range []struct {
			h               *harness.Host
			container, want string
		}{
			{r.web1, railsService + "-web-v2", "1073741824"},
			{r.web2, railsService + "-web-v2", "1073741824"},
			{r.job, railsService + "-job-v2", "805306368"},
			{r.job, railsService + "-db", "536870912"},
			{r.job, railsService + "-redis", "268435456"},
		} {
			out, err := c.h.Docker(ctx, "inspect", "--format", "{{.HostConfig.Memory}}", c.container)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(out) != c.want {
				t.Errorf("%s %s memory limit = %s, want %s", c.h.Name, c.container, out, c.want)
			}
		}
	})

	t.Run("rollback to v1 under load, 0 failed requests", func(t *testing.T) {
		load := r.startLoad(t)
		res := r.kamal("rollback", "v1")
		last := load.stop(t, "rollback v1")
		res.must(t)
		t.Logf("rollback to v1 took %v", res.took.Round(time.Millisecond))
		for _, v := range last {
			if v != "v1" {
				t.Errorf("after rollback the load last saw %q", v)
			}
		}
	})
}
