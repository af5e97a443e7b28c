package doctor

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Image checks: the image that ships carries no build tool chain and is not
// oversized.

// DefaultImageSizeThreshold is the image size above which doctor warns.
const DefaultImageSizeThreshold = 1_000_000_000

// biggestLayers is how many layers the size finding lists.
const biggestLayers = 3

var (
	installRE   = regexp.MustCompile(`\b(apt-get\s+(?:\S+\s+)*install|apt\s+install|apk\s+(?:\S+\s+)*add|yum\s+install|dnf\s+install|npm\s+(?:i|install)\s+(?:-g|--global)|yarn\s+global\s+add)\b`)
	uninstallRE = regexp.MustCompile(`\b(apt-get\s+(?:\S+\s+)*(purge|remove)|apk\s+del)\b`)
	buildTools  = []string{"build-essential", "gcc", "g++", "clang", "git", "node-gyp"}
)

// installedBuildTools returns the build tools a RUN instruction installs and
// does not remove again.
func installedBuildTools(run string) []string {
	if !installRE.MatchString(run) || uninstallRE.MatchString(run) {
		return nil
	}
	var out []string
	for _, w := range shellWords(strings.NewReplacer("&&", " ", ";", " ", "|", " ").Replace(run)) {
		w, _, _ = strings.Cut(w, "=") // apt pins: gcc=4:12.2.0-3
		if slices.Contains(buildTools, w) && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

var checkImageBuildTools = Check{
	ID:    "image-build-tools",
	Title: "the final image does not install build tools",
	Run: func(p *Project) []Finding {
		if p.Dockerfile == nil {
			return nil
		}
		single := len(p.Dockerfile.Stages) == 1
		var out []Finding
		for _, s := range p.finalChain() {
			for _, in := range s.Instructions {
				if in.Cmd != "RUN" {
					continue
				}
				tools := installedBuildTools(in.Args)
				if len(tools) == 0 {
					continue
				}
				msg := fmt.Sprintf("the final image installs build tools (%s)", strings.Join(tools, ", "))
				if single {
					msg = fmt.Sprintf("single-stage Dockerfile installs build tools (%s) into the image that ships", strings.Join(tools, ", "))
				}
				out = append(out, Finding{
					Severity: Warn, File: p.Dockerfile.Path, Line: in.Line,
					Message: msg,
					Fix:     "install them in a build stage (FROM base AS build), build gems and assets there, and COPY --from=build only the results into a slim final stage",
				})
			}
		}
		return out
	},
}

// historyArgsRE matches the build-arg prefix `|2 A=b C=d ` of a RUN in
// `docker history`, which can hold secret values.
var historyArgsRE = regexp.MustCompile(`^\|\d+\s+(?:\S+=\S*\s+)*`)

// layerLabel shortens a history entry for a message, without build args.
func layerLabel(createdBy string) string {
	s := historyArgsRE.ReplaceAllString(strings.TrimSpace(createdBy), "")
	s = strings.TrimPrefix(s, "/bin/sh -c ")
	s = strings.TrimPrefix(s, "#(nop) ")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

func humanSize(n int64) string {
	const mb = 1000 * 1000
	if n >= 1000*mb {
		return fmt.Sprintf("%.1f GB", float64(n)/(1000*mb))
	}
	return fmt.Sprintf("%.0f MB", float64(n)/mb)
}

func imageSizeCheck(threshold int64) Check {
	return Check{
		ID:    "image-size",
		Title: "the built image is not oversized",
		Run: func(p *Project) []Finding {
			if p.ImageErr != nil {
				return []Finding{{
					Severity: Info,
					Message:  "the local image was not inspected: " + p.ImageErr.Error(),
					Fix:      "start Docker (or build the image) to have its size, user and env checked",
				}}
			}
			img := p.Image
			if img == nil || img.Size <= threshold {
				return nil
			}
			layers := append([]Layer{}, img.Layers...)
			slices.SortStableFunc(layers, func(a, b Layer) int {
				switch {
				case a.Size > b.Size:
					return -1
				case a.Size < b.Size:
					return 1
				}
				return 0
			})
			var parts []string
			for i := 0; i < len(layers) && i < biggestLayers; i++ {
				parts = append(parts, fmt.Sprintf("%s %q", humanSize(layers[i].Size), layerLabel(layers[i].CreatedBy)))
			}
			return []Finding{{
				Severity: Warn, File: img.Ref,
				Message: fmt.Sprintf("image is %s (threshold %s); biggest layers: %s", humanSize(img.Size), humanSize(threshold), strings.Join(parts, ", ")),
				Fix:     "use a multi-stage build with a -slim base, install only runtime packages in the final stage, clean apt lists and caches in the same RUN, and keep node_modules, tmp and log out of the image (.dockerignore)",
			}}
		},
	}
}

var checkImageSize = imageSizeCheck(DefaultImageSizeThreshold)
