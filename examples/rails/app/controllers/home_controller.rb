class HomeController < ApplicationController
  def index
    @notes = Note.order(:id).last(5)
    @job_runs = JobRun.count
    @greeting = Rails.application.credentials.dig(:example, :greeting)
  end
end
