package spec

// A strict, reflective decoder from YAML nodes into the config structs. Struct
// fields name their key with a `kamal:"key"` tag; unknown keys, wrong shapes
// and bad scalars are errors carrying file, line and the dotted key path.
// `x-` keys are ignored at every level, as Kamal does for extensions.

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

// nodeUnmarshaler is implemented by types whose YAML shape is not a plain
// struct/list/map (e.g. `proxy: true` or a map).
type nodeUnmarshaler interface {
	unmarshalNode(d *decoder, n *yaml.Node, path string) error
}

type decoder struct{ t *tree }

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

var (
	durationType = reflect.TypeOf(contract.Duration(0))
	unmarshalerT = reflect.TypeOf((*nodeUnmarshaler)(nil)).Elem()
	nodeType     = reflect.TypeOf((*yaml.Node)(nil))
)

// decode stores n into v (a settable value).
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) error {
	if v.Type() == nodeType {
		v.Set(reflect.ValueOf(n))
		return nil
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerT) {
		return v.Addr().Interface().(nodeUnmarshaler).unmarshalNode(d, n, path)
	}
	if isNull(n) {
		// A key with no value (Ruby nil) leaves the zero value.
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(n, path, v.Elem())
	case reflect.Struct:
		return d.decodeStruct(n, path, v)
	case reflect.String:
		s, err := d.scalar(n, path)
		if err != nil {
			return err
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, err := d.boolean(n, path)
		if err != nil {
			return err
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int64:
		if v.Type() == durationType {
			dur, err := d.duration(n, path)
			if err != nil {
				return err
			}
			v.SetInt(int64(dur))
			return nil
		}
		i, err := d.integer(n, path)
		if err != nil {
			return err
		}
		v.SetInt(i)
		return nil
	case reflect.Slice:
		return d.decodeSlice(n, path, v)
	case reflect.Map:
		return d.decodeMap(n, path, v)
	}
	return d.t.errAt(n, path, "unsupported field type %s", v.Type())
}

func (d *decoder) decodeStruct(n *yaml.Node, path string, v reflect.Value) error {
	if n.Kind != yaml.MappingNode {
		return d.t.errAt(n, path, "must be a mapping, got %s", kindName(n))
	}
	fields := map[string]int{}
	for i := 0; i < v.NumField(); i++ {
		if tag := v.Type().Field(i).Tag.Get("kamal"); tag != "" && tag != "-" {
			fields[tag] = i
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		if k.Kind != yaml.ScalarNode {
			return d.t.errAt(k, path, "keys must be plain strings")
		}
		if strings.HasPrefix(key, "x-") {
			continue
		}
		idx, ok := fields[key]
		if !ok {
			return d.t.errAt(k, joinPath(path, key), "unknown key")
		}
		if err := d.decode(val, joinPath(path, key), v.Field(idx)); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) decodeSlice(n *yaml.Node, path string, v reflect.Value) error {
	et := v.Type().Elem()
	if n.Kind == yaml.ScalarNode && et.Kind() == reflect.String {
		// A single value where a list is allowed (Array(x) in Kamal).
		s, err := d.scalar(n, path)
		if err != nil {
			return err
		}
		v.Set(reflect.Append(reflect.MakeSlice(v.Type(), 0, 1), reflect.ValueOf(s).Convert(et)))
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return d.t.errAt(n, path, "must be a list, got %s", kindName(n))
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		if err := d.decode(e, path+"["+strconv.Itoa(i)+"]", out.Index(i)); err != nil {
			return err
		}
	}
	v.Set(out)
	return nil
}

func (d *decoder) decodeMap(n *yaml.Node, path string, v reflect.Value) error {
	if n.Kind != yaml.MappingNode {
		return d.t.errAt(n, path, "must be a mapping, got %s", kindName(n))
	}
	if v.Type().Key().Kind() != reflect.String {
		return d.t.errAt(n, path, "unsupported map key type")
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return d.t.errAt(k, path, "keys must be plain strings")
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		if err := d.decode(val, joinPath(path, k.Value), ev); err != nil {
			return err
		}
		v.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), ev)
	}
	return nil
}

// scalar returns any scalar as a string (Ruby's to_s of a YAML scalar).
func (d *decoder) scalar(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", d.t.errAt(n, path, "must be a single value, got %s", kindName(n))
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	return n.Value, nil
}

func (d *decoder) boolean(n *yaml.Node, path string) (bool, error) {
	if n.Kind != yaml.ScalarNode {
		return false, d.t.errAt(n, path, "must be true or false, got %s", kindName(n))
	}
	switch strings.ToLower(n.Value) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off":
		return false, nil
	}
	return false, d.t.errAt(n, path, "must be true or false, got %q", n.Value)
}

func (d *decoder) integer(n *yaml.Node, path string) (int64, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, d.t.errAt(n, path, "must be an integer, got %s", kindName(n))
	}
	s := strings.ReplaceAll(n.Value, "_", "") // Ruby/YAML 1.1 digit separators
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, d.t.errAt(n, path, "must be an integer, got %q", n.Value)
	}
	return i, nil
}

// duration reads Kamal's durations: a number of seconds (3, 1.5) or a
// duration string ("10s", "1m30s").
func (d *decoder) duration(n *yaml.Node, path string) (contract.Duration, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, d.t.errAt(n, path, "must be a duration (seconds), got %s", kindName(n))
	}
	s := strings.TrimSpace(n.Value)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || f > math.MaxInt64/float64(time.Second) || math.IsNaN(f) {
			return 0, d.t.errAt(n, path, "duration %q out of range", n.Value)
		}
		return contract.Duration(f * float64(time.Second)), nil
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur < 0 {
		return 0, d.t.errAt(n, path, "must be a duration in seconds or like \"10s\", got %q", n.Value)
	}
	return contract.Duration(dur), nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return "the value " + strconv.Quote(n.Value)
	}
	return "an unsupported node"
}

// stringOrList accepts "a" or [a, b] (and "a,b" when split is set by caller).
type stringOrList []string

func (s *stringOrList) unmarshalNode(d *decoder, n *yaml.Node, path string) error {
	if isNull(n) {
		return nil
	}
	var l []string
	if err := d.decodeSlice(n, path, reflect.ValueOf(&l).Elem()); err != nil {
		return err
	}
	*s = l
	return nil
}

// options are docker run options: `--name value`; a value may be a scalar or
// a list (repeated flag).
type options map[string][]string

func (o *options) unmarshalNode(d *decoder, n *yaml.Node, path string) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return d.t.errAt(n, path, "must be a mapping of docker options, got %s", kindName(n))
	}
	if *o == nil {
		*o = options{}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := joinPath(path, k.Value)
		var vals []string
		switch v.Kind {
		case yaml.ScalarNode:
			s, _ := d.scalar(v, p)
			vals = []string{s}
		case yaml.SequenceNode:
			for j, e := range v.Content {
				s, err := d.scalar(e, p+"["+strconv.Itoa(j)+"]")
				if err != nil {
					return err
				}
				vals = append(vals, s)
			}
		default:
			return d.t.errAt(v, p, "must be a value or a list of values, got %s", kindName(v))
		}
		(*o)[k.Value] = vals
	}
	return nil
}

// reflectValue returns the settable value p points to.
func reflectValue(p any) reflect.Value { return reflect.ValueOf(p).Elem() }
