namespace :assets do
  desc "Fingerprint app/assets into public/assets (see lib/asset_manifest.rb)"
  task precompile: :environment do
    AssetManifest.compile.each { |logical, name| puts "#{logical} -> public/assets/#{name}" }
  end

  desc "Remove the compiled assets and the manifest"
  task clobber: :environment do
    FileUtils.rm_rf(Rails.root.join("public", "assets"))
    FileUtils.rm_f(AssetManifest.manifest_path)
  end
end
