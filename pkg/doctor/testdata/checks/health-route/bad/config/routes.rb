Rails.application.routes.draw do
  resources :products
  # get "up" => "rails/health#show"
end
