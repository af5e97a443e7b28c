package harness

import (
	"context"
	"fmt"
)

// The Rails stack: Debian trixie's Ruby 3.3 and Rails 7.2 with puma, pg,
// redis, sidekiq and jemalloc as system gems (no bundler, no gems from the
// network), and PostgreSQL 17 and Redis accessories from the same release.
const (
	railsPackages     = "ruby,ruby-rails,puma,ruby-pg,ruby-redis,ruby-sidekiq,libjemalloc2,postgresql-client,curl,ca-certificates"
	trixieSvcPackages = "postgresql,redis-server,ca-certificates,procps"

	// RailsBaseRef is the tag of the Rails base image that
	// examples/rails/Dockerfile builds FROM (its RAILS_BASE_IMAGE default).
	RailsBaseRef = "kamal-e2e-rails-base:trixie"
	// RailsPostgresRef and RailsRedisRef are the Rails stack's accessory
	// images, named in the example's deploy configs.
	RailsPostgresRef = "kamal-e2e-postgres:17"
	RailsRedisRef    = "kamal-e2e-redis:8"
)

// trixieServices is the trixie root of the Rails stack's PostgreSQL and Redis,
// slimmed like bookworm's: the JIT (LLVM) is optional.
var trixieServices = serviceRoot{"svc-trixie", trixie, trixieSvcPackages, []string{
	"usr/lib/x86_64-linux-gnu/libLLVM*.so*",
	"usr/lib/llvm-*",
	"usr/lib/postgresql/17/lib/bitcode",
	"usr/lib/postgresql/17/lib/llvmjit*",
}}

// RailsBaseImage returns the Rails base image (Debian trixie minbase with
// Ruby, Rails and the gems above, recipe in e2e/images/rails-base), tagged
// RailsBaseRef. Cold, the debootstrap takes about 2 minutes.
func RailsBaseImage(ctx context.Context) (string, error) {
	root, err := rootfsImage(ctx, "rails", trixie, railsPackages)
	if err != nil {
		return "", err
	}
	h, err := recipeHash([]string{"rails-base"}, root)
	if err != nil {
		return "", err
	}
	pinned := RailsBaseRef + "-" + h
	if _, err := ensure(ctx, pinned, func() error {
		return dockerBuild(ctx, "rails-base", map[string]string{"BASE": root}, pinned)
	}); err != nil {
		return "", fmt.Errorf("rails base image: %w", err)
	}
	return tagAlias(ctx, pinned, RailsBaseRef)
}

// RailsPostgresImage returns PostgreSQL 17 from trixie, the same recipe as
// PostgresImage (e2e/images/postgres), tagged RailsPostgresRef.
func RailsPostgresImage(ctx context.Context) (string, error) {
	return serviceImage(ctx, trixieServices, "postgres", RailsPostgresRef, map[string]string{"PG_MAJOR": "17"})
}

// RailsRedisImage returns Redis from trixie, the same recipe as RedisImage
// (e2e/images/redis), tagged RailsRedisRef.
func RailsRedisImage(ctx context.Context) (string, error) {
	return serviceImage(ctx, trixieServices, "redis", RailsRedisRef, nil)
}
