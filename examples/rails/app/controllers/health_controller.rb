# /up: the proxy's health check. A new version receives traffic only once
# this answers 200, so it checks what the app cannot serve without: the
# database, Redis, and a schema that has every migration of this version.
# Any failure answers 503 with the failing check named, and is logged.
class HealthController < ActionController::Base
  include AppVersionHeader

  CHECKS = %i[database redis migrations].freeze

  def show
    checks = CHECKS.index_with { |name| run_check(name) }
    healthy = checks.values.all?("ok")
    logger.warn("health check failed: #{checks.to_json}") unless healthy
    render json: { status: healthy ? "ok" : "error", version: Rails.configuration.x.version, checks: checks },
           status: healthy ? :ok : :service_unavailable
  end

  private
    def run_check(name)
      send("check_#{name}")
      "ok"
    rescue StandardError => e
      "#{e.class}: #{e.message.lines.first&.strip}"
    end

    def check_database
      ActiveRecord::Base.connection.select_value("SELECT 1")
    end

    def check_redis
      Sidekiq.redis { |conn| conn.call("PING") }
    end

    def check_migrations
      pending = ActiveRecord::Base.connection_pool.migration_context.open.pending_migrations
      raise "pending: #{pending.map(&:version).join(", ")}" if pending.any?
    end
end
