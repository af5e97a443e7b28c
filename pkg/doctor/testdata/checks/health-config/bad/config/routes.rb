Rails.application.routes.draw do
  get "healthz" => "rails/health#show"

  root "products#index"
end
