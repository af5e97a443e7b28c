package sidecar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// validator is a request type that checks its own fields.
type validator interface{ Validate() error }

// decodeRequest reads a JSON request body strictly into v (at most
// contract.MaxBodySize bytes, one document, no unknown fields) and
// validates it. Every failure is an *contract.Error with CodeBadRequest
// (or CodeTooLarge) naming the field where one is known.
func decodeRequest(r io.Reader, v validator) error {
	data, err := io.ReadAll(io.LimitReader(r, contract.MaxBodySize+1))
	if err != nil {
		return badRequest("", fmt.Sprintf("read body: %v", err))
	}
	if len(data) > contract.MaxBodySize {
		return &contract.Error{Status: http.StatusRequestEntityTooLarge, Code: contract.CodeTooLarge,
			Message: fmt.Sprintf("request body larger than %d bytes", contract.MaxBodySize)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return locatedError(err, reflect.TypeOf(v), data)
	}
	if dec.More() {
		return badRequest("", "trailing data after the JSON document")
	}
	if err := v.Validate(); err != nil {
		return validationError(err)
	}
	return nil
}

// decodeDeploy reads a wire spec with contract.DecodeDeploy and maps its errors
// to 4xx errors naming the field.
func decodeDeploy(r io.Reader) (*contract.Deploy, error) {
	data, err := io.ReadAll(io.LimitReader(r, contract.MaxWireSize+1))
	if err != nil {
		return nil, badRequest("", fmt.Sprintf("read body: %v", err))
	}
	if len(data) > contract.MaxWireSize {
		return nil, &contract.Error{Status: http.StatusRequestEntityTooLarge, Code: contract.CodeTooLarge,
			Message: fmt.Sprintf("spec larger than %d bytes", contract.MaxWireSize)}
	}
	d, err := contract.DecodeDeploy(bytes.NewReader(data))
	if err != nil {
		var fe *contract.FieldError
		if errors.As(err, &fe) {
			return nil, validationError(err)
		}
		// DecodeDeploy wraps json errors in "decode spec: %w".
		return nil, locatedError(err, reflect.TypeOf(contract.Deploy{}), data)
	}
	// Only Traefik routing travels ready-made; without it the swap would
	// fail at cutover, after starting green.
	if d.Proxy != nil && d.Proxy.Routing == nil {
		return nil, validationError(contract.ErrNoRouting)
	}
	return d, nil
}

// locatedError is jsonError with the field found by locateField when
// encoding/json did not name one.
func locatedError(err error, t reflect.Type, data []byte) error {
	e := jsonError(err)
	if e.Field == "" {
		if f := locateField(t, data); f != "" {
			e.Field = f
			e.Message = f + ": " + e.Message
		}
	}
	return e
}

// validationError maps a Validate error to a 400 naming the field.
func validationError(err error) error {
	var fe *contract.FieldError
	if errors.As(err, &fe) {
		return badRequest(fe.Field, fe.Error())
	}
	return badRequest("", err.Error())
}

// jsonError maps an encoding/json error to a 400 naming the field.
func jsonError(err error) *contract.Error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(document)"
		}
		return badRequest(field, fmt.Sprintf("%s: want %s, got JSON %s", field, typ.Type, typ.Value))
	case errors.As(err, &syn):
		return badRequest("", fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn))
	case errors.Is(err, io.EOF):
		return badRequest("", "empty body: want a JSON document")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "truncated JSON document")
	}
	msg := err.Error()
	// encoding/json reports unknown fields only as text.
	if i := strings.Index(msg, "json: unknown field "); i >= 0 {
		field := strings.Trim(msg[i+len("json: unknown field "):], `"`)
		return badRequest(field, fmt.Sprintf("%s: unknown field", field))
	}
	// Field-level errors from custom unmarshalers (contract.Duration) carry the
	// Go path since go1.20 only for type errors; report the message.
	return badRequest(fieldFromMessage(msg), msg)
}

// fieldFromMessage finds `Go struct field X.y` in an encoding/json message.
func fieldFromMessage(msg string) string {
	const marker = "Go struct field "
	i := strings.Index(msg, marker)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(marker):]
	if j := strings.IndexAny(rest, " :"); j >= 0 {
		rest = rest[:j]
	}
	if k := strings.Index(rest, "."); k >= 0 {
		rest = rest[k+1:]
	}
	return rest
}

func badRequest(field, msg string) *contract.Error {
	return &contract.Error{Status: http.StatusBadRequest, Code: contract.CodeBadRequest, Field: field, Message: msg}
}
