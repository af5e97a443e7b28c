// Package docs carries the project's Markdown documentation into the
// binary: `docker kamal docs` prints config.md, which stays here, next to the
// other docs, as the one canonical copy (go:embed cannot reach files outside
// the embedding package's directory, hence a Go package in docs/).
package docs

import _ "embed"

// ConfigReference is config.md, the config reference.
//
//go:embed config.md
var ConfigReference string
