require_relative "boot"
require "rails/all"

module Legacy
  class Application < Rails::Application
    config.load_defaults 7.0
  end
end
