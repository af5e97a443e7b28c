# Web enqueues into the Redis that the job role (bin/jobs) works from.
Sidekiq.configure_server do |config|
  config.redis = { url: Rails.configuration.x.redis_url }
end

Sidekiq.configure_client do |config|
  config.redis = { url: Rails.configuration.x.redis_url }
end
