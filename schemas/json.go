package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ValidateJSON checks a JSON document (a plan file, a snapshot, a drift report) against an
// embedded schema and returns its violations. The error is for a document that is not
// JSON, or a schema that cannot be loaded.
func ValidateJSON(name Name, data []byte) ([]Violation, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("validate against %s: %w", name, err)
	}
	return Validate(name, v)
}
