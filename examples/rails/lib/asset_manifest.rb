require "digest"
require "erb"
require "fileutils"
require "json"

# The app's asset pipeline, standing in for propshaft: Debian trixie packages
# neither propshaft nor sprockets-rails. `bin/rails assets:precompile` (see
# lib/tasks/assets.rake) renders every file under app/assets (ERB first for
# *.erb), writes it to public/assets under a name carrying a digest of its
# content ("application-3f2a9c0d41b7e6a5.css"), and records logical name to
# digested name in config/asset-manifest.json, which the view helpers read.
#
# The manifest lives outside public/assets on purpose: in production
# public/assets is a directory that merges this version's files with the
# previous version's (asset bridging, `asset_path` in config/deploy.yml),
# and a page must link the files of the version that renders it.
module AssetManifest
  SOURCE = "app/assets"
  PREFIX = "/assets"

  class << self
    # "/assets/application-<digest>.css" for "application.css", or nil when
    # there is no such asset (or no manifest: assets not precompiled).
    def path_for(logical)
      name = manifest[logical.to_s.delete_prefix("/")]
      name && "#{PREFIX}/#{name}"
    end

    def manifest
      @manifest ||= File.exist?(manifest_path) ? JSON.parse(File.read(manifest_path)) : {}
    end

    # Writes every asset under public/assets and the manifest; returns the
    # manifest.
    def compile(root: Rails.root, version: Rails.configuration.x.version)
      out = File.join(root, "public", PREFIX)
      FileUtils.mkdir_p(out)
      entries = sources(root).to_h do |path, logical|
        body = File.binread(path)
        if logical.end_with?(".erb")
          body = ERB.new(body).result_with_hash(version: version)
          logical = logical.delete_suffix(".erb")
        end
        name = digested(logical, body)
        FileUtils.mkdir_p(File.dirname(File.join(out, name)))
        File.binwrite(File.join(out, name), body)
        [ logical, name ]
      end
      File.write(manifest_path(root), JSON.pretty_generate(entries) + "\n")
      @manifest = entries
    end

    def manifest_path(root = Rails.root)
      File.join(root, "config", "asset-manifest.json")
    end

    private
      # [path, logical name] of each source file; the logical name drops the
      # first directory, as propshaft does ("stylesheets/application.css"
      # is "application.css").
      def sources(root)
        base = File.join(root, SOURCE)
        Dir.glob("**/*", base: base).sort.filter_map do |rel|
          path = File.join(base, rel)
          next unless File.file?(path)
          [ path, rel.split("/", 2).last ]
        end
      end

      def digested(logical, body)
        ext = File.extname(logical)
        "#{logical.delete_suffix(ext)}-#{Digest::SHA256.hexdigest(body)[0, 16]}#{ext}"
      end
  end
end
