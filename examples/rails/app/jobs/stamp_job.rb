# Runs on the job role (Sidekiq): records that it ran, where, and which
# version of the code ran it.
class StampJob < ApplicationJob
  queue_as :default

  def perform(token)
    JobRun.create!(token: token, worker_host: Socket.gethostname, worker_version: Rails.configuration.x.version)
  end
end
