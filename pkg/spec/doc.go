// Package spec is the plugin's config loader: it reads a Kamal 1 or Kamal 2
// config/deploy.yml with its destination file, ERB and .kamal/secrets,
// rejects what Kamal rejects with file, line and key, and normalises it into
// one Config. From a Config it builds the values the sidecar receives
// (pkg/contract's Deploy); it never sends them itself.
package spec
