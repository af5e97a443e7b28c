class ApplicationController < ActionController::Base
  include AppVersionHeader
end
