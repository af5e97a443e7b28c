module ApplicationHelper
  # stylesheet_link_tag and javascript_include_tag ask this for a path: give
  # them the fingerprinted file that bin/rails assets:precompile wrote (see
  # lib/asset_manifest.rb). Propshaft or sprockets-rails do the same in a
  # generated app.
  def compute_asset_path(source, options = {})
    AssetManifest.path_for(source) || super
  end
end
