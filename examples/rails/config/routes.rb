Rails.application.routes.draw do
  # Reveal health status on /up: 200 when the database, Redis and migrations
  # are fine, 503 otherwise (the proxy's health check, see config/deploy.yml).
  get "up" => "health#show", as: :rails_health_check

  # A Sidekiq round trip: POST enqueues a job, GET reads what it wrote.
  post "jobs" => "jobs#create"
  get "jobs/:token" => "jobs#show", as: :job

  root "home#index"
end
