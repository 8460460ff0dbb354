package scim

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseError checks that any error body, SCIM, Databricks REST, plain text or HTML,
// becomes an *Error with the response's status and a detail of bounded length, and that
// formatting it never panics.
func FuzzParseError(f *testing.F) {
	f.Add(500, []byte(`{"detail":"REQUEST_LIMIT_EXCEEDED: Workspace 1234 exceeded the concurrent limit of 4 requests.","schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500"}`))
	f.Add(400, []byte(`{"detail":"entitlements can only be managed at the workspace level","status":"400","schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"invalidValue"}`))
	f.Add(409, []byte(`{"detail":"User with email a@b.c already exists in this account","status":409}`))
	f.Add(404, []byte(`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Workspace 1 does not exist."}`))
	f.Add(502, []byte(`<html><head><title>502 Bad Gateway</title></head><body><pre>upstream</pre></body></html>`))
	f.Add(500, []byte(`{"detail":"null","status":"500"}`))
	f.Add(0, []byte(`{"status":"503"}`))
	f.Add(429, []byte(strings.Repeat("x", 1000)))
	f.Add(503, []byte("a"+strings.Repeat("é", 400)))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseError("PATCH", "/api/2.0/accounts/a/scim/v2/Groups/1", status, body)
		if e == nil {
			t.Fatal("parseError returned nil")
		}
		if status != 0 && e.Status != status {
			t.Fatalf("status %d became %d", status, e.Status)
		}
		if !jsonObject(body) && utf8.RuneCountInString(e.Detail) > maxDetail+1 {
			t.Fatalf("detail of a body that is not JSON is %d characters long, want at most %d", utf8.RuneCountInString(e.Detail), maxDetail+1)
		}
		if utf8.Valid(body) && !utf8.ValidString(e.Detail) {
			t.Fatalf("a UTF-8 body gave a detail that is not UTF-8: %q", e.Detail)
		}
		_ = e.Error()
		_ = e.Hint()
		_ = e.Throttled()
	})
}

// jsonObject reports whether body is a JSON object, whose detail is kept whole.
func jsonObject(body []byte) bool {
	s := strings.TrimSpace(string(body))
	return strings.HasPrefix(s, "{") || s == "null"
}
