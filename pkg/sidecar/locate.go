package sidecar

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// maxLocateDepth bounds locateField's recursion into nested objects.
const maxLocateDepth = 8

// locateField finds the JSON path of the field whose value fails to decode
// into t (a struct type), for errors that encoding/json reports without a
// field (custom unmarshalers such as contract.Duration). It returns "" when no
// single field is to blame.
func locateField(t reflect.Type, data []byte) string {
	return locate(t, data, "", 0)
}

func locate(t reflect.Type, data []byte, prefix string, depth int) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || depth > maxLocateDepth {
		return ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return ""
	}
	fields := jsonFields(t)
	for key, raw := range obj {
		ft, ok := fields[strings.ToLower(key)]
		if !ok {
			continue
		}
		v := reflect.New(ft)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if dec.Decode(v.Interface()) == nil {
			continue
		}
		if deeper := locate(ft, raw, prefix+key+".", depth+1); deeper != "" {
			return deeper
		}
		return prefix + key
	}
	return ""
}

// jsonFields maps lower-cased JSON names to field types, flattening
// embedded structs as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, dup := out[k]; !dup {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[strings.ToLower(name)] = f.Type
	}
	return out
}
