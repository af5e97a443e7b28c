# A generated app sets up Bundler here (and bootsnap). This one runs on
# Debian's system gems, installed with Ruby in the base image, so there is
# nothing to set up: `require "rails"` finds them. See README.md.
