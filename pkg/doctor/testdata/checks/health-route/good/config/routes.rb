Rails.application.routes.draw do
  get "/up", to: "health#show"
  resources :products
end
