class CreateJobRuns < ActiveRecord::Migration[7.2]
  def change
    create_table :job_runs do |t|
      t.string :token, null: false, index: { unique: true }
      t.string :worker_host, null: false
      t.string :worker_version, null: false
      t.timestamps
    end
  end
end
