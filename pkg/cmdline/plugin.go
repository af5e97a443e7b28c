package cmdline

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/docker/cli/cli-plugins/metadata"

	"github.com/dockerkamal/docker-kamal/pkg/buildinfo"
)

// PluginName is the word after `docker` that runs us.
const PluginName = "kamal"

// pluginMetadata is what `docker-kamal docker-cli-plugin-metadata` prints.
func pluginMetadata() metadata.Metadata {
	return metadata.Metadata{
		SchemaVersion:    "0.1.0",
		Vendor:           "docker kamal",
		Version:          buildinfo.Version,
		ShortDescription: "Zero-downtime deploys of Kamal apps to your own servers",
		URL:              buildinfo.URL,
	}
}

func writeMetadata(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "     ")
	return enc.Encode(pluginMetadata())
}

// dockerGlobalFlagsWithValue are the docker CLI's global flags that take a
// value; the CLI passes them to plugins in front of the plugin name.
var dockerGlobalFlagsWithValue = map[string]bool{
	"--config": true, "-c": true, "--context": true, "-H": true, "--host": true,
	"-l": true, "--log-level": true, "--tlscacert": true, "--tlscert": true, "--tlskey": true,
}

// splitDockerArgs separates what the Docker CLI put before the plugin name
// (its global flags, which must keep applying to the local engine) from our
// own arguments. `docker --context x kamal deploy` reaches us as
// [--context x kamal deploy]; run directly as `docker-kamal deploy` there is
// no plugin name and no docker flags.
func splitDockerArgs(args []string) (dockerFlags, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == PluginName {
			return args[:i], args[i+1:]
		}
		if !strings.HasPrefix(a, "-") {
			break
		}
		if dockerGlobalFlagsWithValue[a] {
			i++
		}
	}
	return nil, args
}
