package doctor

import (
	"errors"
	"io/fs"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// Config load check: the config exists and loads.

var checkConfigLoad = Check{
	ID:    "config-load",
	Title: "config/deploy.yml exists and loads",
	Run: func(p *Project) []Finding {
		err := p.ConfigErr
		if err == nil {
			return nil
		}
		f := Finding{Severity: Error, File: p.ConfigFile, Message: err.Error(), Fix: "fix the config; `docker kamal config` shows how it loads"}
		var se *spec.Error
		if errors.As(err, &se) {
			f.File, f.Line, f.Message = se.File, se.Line, se.Msg
			if se.Key != "" {
				f.Message = se.Key + ": " + se.Msg
			}
			if f.File == "" {
				f.File = p.ConfigFile
			}
		}
		if errors.Is(err, fs.ErrNotExist) {
			f.Message = p.ConfigFile + " not found"
			f.Fix = "run `docker kamal init` (or `docker kamal init --rails` in a Rails app)"
		}
		return []Finding{f}
	},
}
