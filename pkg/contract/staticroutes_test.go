package contract

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestStaticRoutesValidate: a boot request's routes need their service, a
// valid unique name and a JSON object.
func TestStaticRoutesValidate(t *testing.T) {
	ok := json.RawMessage(`{"http":{}}`)
	for _, tc := range []struct {
		name    string
		service string
		routes  []StaticRoute
		field   string
	}{
		{"ok", "app", []StaticRoute{{Name: "db", Config: ok}}, ""},
		{"no service", "", []StaticRoute{{Name: "db", Config: ok}}, "routesService"},
		{"bad name", "app", []StaticRoute{{Name: "../x", Config: ok}}, "routes[0].name"},
		{"twice", "app", []StaticRoute{{Name: "db", Config: ok}, {Name: "db", Config: ok}}, "routes[1].name"},
		{"not an object", "app", []StaticRoute{{Name: "db", Config: json.RawMessage(`[]`)}}, "routes[0].config"},
	} {
		err := validateStaticRoutes(tc.service, tc.routes)
		var fe *FieldError
		if tc.field == "" && err != nil || tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
			t.Errorf("%s: %v, want field %q", tc.name, err, tc.field)
		}
	}
}
