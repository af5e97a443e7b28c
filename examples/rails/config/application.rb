require_relative "boot"

require "rails"
# Pick the frameworks you want:
require "active_model/railtie"
require "active_job/railtie"
require "active_record/railtie"
require "action_controller/railtie"
require "action_view/railtie"
require "rails/test_unit/railtie"

# The gems a Gemfile would list; Bundler.require would load them.
require "pg"
require "redis"
require "sidekiq"
require "puma"

module RailsDemo
  class Application < Rails::Application
    # Initialize configuration defaults for originally generated Rails version.
    config.load_defaults 7.2

    # Please, add to the `ignore` list any other `lib` subdirectories that do
    # not contain `.rb` files, or that should not be reloaded or eager loaded.
    config.autoload_lib(ignore: %w[assets tasks])

    # Jobs go through Sidekiq (the job role, bin/jobs).
    config.active_job.queue_adapter = :sidekiq

    # The app's version, baked into the image from VERSION: every response
    # carries it as X-App-Version and the assets embed it, so two versions
    # have different asset digests.
    config.x.version = File.read(File.expand_path("../VERSION", __dir__)).strip

    # Redis serves Sidekiq and the health check.
    config.x.redis_url = ENV.fetch("REDIS_URL", "redis://localhost:6379/0")
  end
end
