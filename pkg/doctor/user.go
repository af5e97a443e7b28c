package doctor

import "strings"

// User check: the app does not run as root, so an exploited app cannot
// write the image's code or own the container.

func rootUser(u string) bool {
	name, _, _ := strings.Cut(strings.TrimSpace(u), ":")
	return name == "" || name == "root" || name == "0"
}

var checkUserRoot = Check{
	ID:    "user-root",
	Title: "the app runs as a non-root user",
	Run: func(p *Project) []Finding {
		var out []Finding
		if f := p.Dockerfile.Final(); f != nil {
			var last *Instruction
			for _, s := range p.finalChain() { // final stage first
				if us := s.Users(); len(us) > 0 {
					last = &us[len(us)-1]
					break
				}
			}
			switch {
			case last == nil:
				out = append(out, Finding{
					Severity: Warn, File: p.Dockerfile.Path, Line: f.Line,
					Message: "the final stage sets no USER: the app runs as root",
					Fix:     "create a user (RUN groupadd --system --gid 1000 rails && useradd rails --uid 1000 --gid 1000 --create-home --shell /bin/bash), chown what it writes, and add USER 1000:1000",
				})
			case rootUser(last.Args):
				out = append(out, Finding{
					Severity: Warn, File: p.Dockerfile.Path, Line: last.Line,
					Message: "the final stage's USER is root",
					Fix:     "switch to an unprivileged user at the end of the final stage (USER 1000:1000)",
				})
			}
		}
		if img := p.Image; img != nil && rootUser(img.User) {
			out = append(out, Finding{
				Severity: Warn, File: img.Ref,
				Message: "the image's config runs as root (User is empty or root)",
				Fix:     "add a USER with an unprivileged user to the final stage and rebuild",
			})
		}
		return out
	},
}
