package schemas

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/scimsync/scimsync/diag"
)

// Violation is one way a value breaks a schema.
type Violation struct {
	// Pointer is the JSON pointer (RFC 6901) of the offending value. For a missing or an
	// unknown property it is the pointer of the object that has (or lacks) the property.
	Pointer string
	// Property names the missing or unknown property of the object at Pointer; it is empty
	// for violations of a value itself.
	Property string
	// Unknown is true when Property is a property the schema does not allow.
	Unknown bool
	// Message says what is wrong, without the path, such as "missing required property".
	Message string
}

// Path renders the location of the violation for people, such as users[3].userName.
func (v Violation) Path() string {
	tokens := splitPointer(v.Pointer)
	if v.Property != "" {
		tokens = append(tokens, v.Property)
	}
	return renderPath(tokens)
}

// String formats the violation as "path: message".
func (v Violation) String() string {
	if p := v.Path(); p != "" {
		return p + ": " + v.Message
	}
	return v.Message
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// renderPath turns pointer tokens into users[3].userName. Tokens that are array indexes are
// shown in brackets; keys that are not plain identifiers are quoted.
func renderPath(tokens []string) string {
	var b strings.Builder
	for i, t := range tokens {
		if _, err := strconv.Atoi(t); err == nil && i > 0 {
			fmt.Fprintf(&b, "[%s]", t)
			continue
		}
		if !identifier.MatchString(t) {
			fmt.Fprintf(&b, "[%q]", t)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}

// splitPointer splits a JSON pointer into unescaped tokens; "" and "/" give none.
func splitPointer(ptr string) []string {
	ptr = strings.TrimPrefix(ptr, "/")
	if ptr == "" {
		return nil
	}
	tokens := strings.Split(ptr, "/")
	for i, t := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return tokens
}

// lastToken returns the last token of a JSON pointer.
func lastToken(ptr string) string {
	tokens := splitPointer(ptr)
	if len(tokens) == 0 {
		return ""
	}
	return tokens[len(tokens)-1]
}

// resolve follows pointer tokens into a JSON value and returns nil when they lead nowhere.
func resolve(v any, tokens []string) any {
	for _, t := range tokens {
		switch x := v.(type) {
		case map[string]any:
			v = x[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// explain turns one validation error into violations with messages for people. The
// schema object that failed supplies the details: its required and known properties, its
// enum, and an optional "x-error" keyword whose text replaces the generic message for
// pattern, oneOf and anyOf failures.
func (r *registry) explain(ve *jsonschema.ValidationError, root any) []Violation {
	keyword := lastToken(ve.KeywordLocation)
	sch := r.lookup(ve.AbsoluteKeywordLocation)
	instance := resolve(root, splitPointer(ve.InstanceLocation))
	at := Violation{Pointer: ve.InstanceLocation}
	custom, _ := sch["x-error"].(string)
	msg := func(format string, args ...any) []Violation {
		at.Message = fmt.Sprintf(format, args...)
		return []Violation{at}
	}
	switch keyword {
	case "required":
		obj, _ := instance.(map[string]any)
		var out []Violation
		for _, p := range stringList(sch["required"]) {
			if _, ok := obj[p]; !ok {
				out = append(out, Violation{Pointer: ve.InstanceLocation, Property: p, Message: "missing required property"})
			}
		}
		if len(out) > 0 {
			return out
		}
	case "additionalProperties":
		obj, _ := instance.(map[string]any)
		known, _ := sch["properties"].(map[string]any)
		names := make([]string, 0, len(known))
		for k := range known {
			names = append(names, k)
		}
		sort.Strings(names)
		var unknown []string
		for k := range obj {
			if _, ok := known[k]; !ok {
				unknown = append(unknown, k)
			}
		}
		sort.Strings(unknown)
		var out []Violation
		for _, k := range unknown {
			m := "unknown field"
			if s := diag.Suggest(k, names); s != "" {
				m += fmt.Sprintf("; did you mean %q?", s)
			}
			if len(names) > 0 {
				m += " (known fields: " + strings.Join(names, ", ") + ")"
			}
			out = append(out, Violation{Pointer: ve.InstanceLocation, Property: k, Unknown: true, Message: m})
		}
		if len(out) > 0 {
			return out
		}
	case "type":
		return msg("must be %s, got %s", typeNames(sch["type"]), article(jsonType(instance)))
	case "enum":
		var vals []string
		if list, ok := sch["enum"].([]any); ok {
			for _, v := range list {
				vals = append(vals, fmt.Sprint(v))
			}
		}
		return msg("must be one of %s, got %s", strings.Join(vals, ", "), show(instance))
	case "const":
		return msg("must be %v, got %s", sch["const"], show(instance))
	case "oneOf", "anyOf", "pattern", "format", "not":
		if custom != "" {
			return msg("%s", custom)
		}
		if keyword == "pattern" {
			return msg("%s does not match the pattern %s", show(instance), sch["pattern"])
		}
		return msg("%s", ve.Message)
	case "minLength":
		if n, ok := sch["minLength"].(json.Number); ok && n == "1" {
			return msg("must not be empty")
		}
		return msg("must be at least %v characters long", sch["minLength"])
	case "maxLength":
		s, _ := instance.(string)
		return msg("must be at most %v characters long, got %d", sch["maxLength"], len([]rune(s)))
	case "minItems":
		return msg("must have at least %v entries", sch["minItems"])
	case "maxItems":
		return msg("must have at most %v entries", sch["maxItems"])
	case "uniqueItems":
		return msg("lists the same entry twice")
	case "minimum":
		return msg("must be at least %v, got %s", sch["minimum"], show(instance))
	case "maximum":
		return msg("must be at most %v, got %s", sch["maximum"], show(instance))
	case "exclusiveMinimum":
		return msg("must be greater than %v, got %s", sch["exclusiveMinimum"], show(instance))
	case "exclusiveMaximum":
		return msg("must be less than %v, got %s", sch["exclusiveMaximum"], show(instance))
	case "":
		return msg("is not allowed here")
	}
	return msg("%s", ve.Message)
}

// stringList returns the strings of a JSON array.
func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// typeNames renders a schema "type" (a string or a list) for people: "a string or a list".
func typeNames(v any) string {
	var names []string
	switch t := v.(type) {
	case string:
		names = []string{t}
	case []any:
		names = stringList(t)
	}
	for i, n := range names {
		names[i] = article(n)
	}
	return strings.Join(names, " or ")
}

// article names a JSON type for people, with its article: "a list", "an integer".
func article(jsonType string) string {
	switch jsonType {
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "string":
		return "a string"
	case "integer":
		return "an integer"
	case "number":
		return "a number"
	case "boolean":
		return "true or false"
	case "null":
		return "an empty value"
	}
	return jsonType
}

// jsonType returns the JSON type of a value.
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// show renders a scalar instance value for a message.
func show(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case nil:
		return "an empty value"
	case map[string]any, []any:
		return article(jsonType(v))
	}
	return fmt.Sprint(v)
}
