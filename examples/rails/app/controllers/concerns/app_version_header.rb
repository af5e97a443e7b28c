# Every response says which version answered it, so a deploy under load can
# be followed request by request (and so can you, with curl -i).
module AppVersionHeader
  extend ActiveSupport::Concern

  included do
    before_action { response.set_header("X-App-Version", Rails.configuration.x.version) }
  end
end
