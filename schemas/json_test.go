package schemas

import "testing"

func TestValidateJSON(t *testing.T) {
	ok := `{"formatVersion": 1, "toolVersion": "v1", "takenAt": "2026-01-01T00:00:00Z",
		"target": {"level": "account", "host": "https://accounts.example.test"},
		"state": {"users": [{"id": "1", "userName": "a@example.com", "active": true}], "servicePrincipals": null, "groups": []}}`
	if v, err := ValidateJSON(Snapshot, []byte(ok)); err != nil || len(v) != 0 {
		t.Errorf("valid snapshot: %v, %v", v, err)
	}
	bad := `{"formatVersion": 2, "toolVersion": "v1", "takenAt": "2026-01-01T00:00:00Z",
		"target": {"level": "account", "host": "h"}, "state": {"users": [], "servicePrincipals": [], "groups": []}}`
	if v, err := ValidateJSON(Snapshot, []byte(bad)); err != nil || len(v) == 0 {
		t.Errorf("a snapshot of format version 2 passes: %v, %v", v, err)
	}
	if _, err := ValidateJSON(Drift, []byte(`{`)); err == nil {
		t.Error("no error for a document that is not JSON")
	}
}
