# A Sidekiq round trip for the deploy checks: POST /jobs enqueues a StampJob
# with a fresh token; the job role works it and writes a JobRun row, which
# GET /jobs/:token reads back (404 until the job has run).
class JobsController < ActionController::API
  include AppVersionHeader

  def create
    token = SecureRandom.hex(8)
    StampJob.perform_later(token)
    render json: { token: token, url: job_path(token) }, status: :accepted
  end

  def show
    run = JobRun.find_by!(token: params[:token])
    render json: run.slice(:token, :worker_host, :worker_version, :created_at)
  rescue ActiveRecord::RecordNotFound
    render json: { token: params[:token], status: "pending" }, status: :not_found
  end
end
