package spec

// The walk over every key the loader knows, for the key table
// (keytable_test.go): the raw structs' kamal tags, through the YAML nodes
// the loader decodes later into the shapes below.

import (
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// nodeShapes are the structs that keys held as *yaml.Node decode into;
// a node key without a shape is a leaf (a scalar, list or free map).
var nodeShapes = map[string]any{
	"registry":               rawRegistry{},
	"servers.*":              rawRole{},
	"env":                    rawEnv{},
	"logging":                rawLogging{},
	"proxy":                  rawProxy{},
	"proxy.ssl":              rawSSL{},
	"healthcheck":            rawHealthcheck{},
	"acme":                   rawACME{},
	"builder.remote":         rawBuilderHost{},
	"builder.local":          rawBuilderHost{},
	"accessories.*":          rawAccessory{},
	"accessories.*.registry": rawRegistry{},
	"traefik.env":            rawEnv{},
}

// canonical maps a role's or accessory's copy of a root section onto the
// root's keys: they are decoded, merged and applied by the same code.
func canonical(path string) string {
	for _, sec := range []string{"proxy", "env", "logging", "healthcheck"} {
		for _, owner := range []string{"servers.*.", "accessories.*."} {
			if owner == "accessories.*." && sec == "proxy" {
				continue // a key of its own: accessoryProxyCheck accepts or refuses each sub-key
			}
			if path == owner+sec || strings.HasPrefix(path, owner+sec+".") {
				return strings.TrimPrefix(path, owner)
			}
		}
	}
	if strings.HasPrefix(path, "traefik.env.") {
		return strings.TrimPrefix(path, "traefik.")
	}
	return path
}

// configKeys returns every key path of deploy.yml the loader accepts,
// canonical, sorted; "*" stands for a name the user chooses.
func configKeys() []string {
	seen := map[string]bool{}
	walkKeys(reflect.TypeOf(rawConfig{}), "", seen, 0)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var yamlNodeType = reflect.TypeOf((*yaml.Node)(nil))

func walkKeys(t reflect.Type, prefix string, seen map[string]bool, depth int) {
	if depth > 8 {
		panic("key walk too deep at " + prefix)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		f := t.Field(i)
		key := f.Tag.Get("kamal")
		if key == "" {
			continue
		}
		path := joinPath(prefix, key)
		seen[canonical(path)] = true
		walkValue(f.Type, path, seen, depth)
	}
}

func walkValue(ft reflect.Type, path string, seen map[string]bool, depth int) {
	switch {
	case ft == yamlNodeType:
		if path == "accessories.*.proxy" {
			return
		}
		if shape, ok := nodeShapes[canonical(path)]; ok {
			walkKeys(reflect.TypeOf(shape), path, seen, depth+1)
		} else if _, ok := nodeShapes[path+".*"]; ok { // servers: a mapping of roles
			seen[canonical(path+".*")] = true
			walkValue(yamlNodeType, path+".*", seen, depth+1)
		}
	case ft.Kind() == reflect.Map && ft.Elem() == yamlNodeType:
		if _, ok := nodeShapes[path+".*"]; ok {
			seen[canonical(path+".*")] = true
			walkValue(yamlNodeType, path+".*", seen, depth+1)
		}
	case ft.Kind() == reflect.Struct || (ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct):
		walkKeys(ft, path, seen, depth+1)
	}
}
