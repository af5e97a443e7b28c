# Puma in the container: threads per process from RAILS_MAX_THREADS, one
# process unless WEB_CONCURRENCY says otherwise, on PORT (3000).
threads_count = ENV.fetch("RAILS_MAX_THREADS", 3)
threads threads_count, threads_count

port ENV.fetch("PORT", 3000)

workers ENV.fetch("WEB_CONCURRENCY", 0)

# Kamal stops the old container with SIGTERM after the proxy stopped sending
# it requests; puma then finishes the requests in flight and exits.
pidfile ENV["PIDFILE"] if ENV["PIDFILE"]
