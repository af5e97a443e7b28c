# What a StampJob left behind: which job host and version worked it.
class JobRun < ApplicationRecord
  validates :token, presence: true, uniqueness: true
end
