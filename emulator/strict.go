package emulator

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/scimsync/scimsync/scim"
)

// This file holds the request checks of strict mode (Options.Lenient turns them off): the
// media types of a request, and the shape of resource bodies. The PatchOp checks are in
// parsePatch.

// jsonMediaTypes are the request Content-Types the emulator accepts: the Go SDK sends
// application/json, Terraform application/scim+json; charset=utf-8 (§1.4).
var jsonMediaTypes = []string{"application/json", "application/scim+json"}

// errMedia is the answer to a body that is not JSON. Databricks' status and text are
// UNKNOWN; 415 is HTTP's (RFC 9110 §15.5.16).
func errMedia(ct string) *apiError {
	return &apiError{status: http.StatusUnsupportedMediaType, detail: "Unsupported Content-Type " + quoteOrNone(ct) + "; send application/json or application/scim+json."}
}

// errAccept is the answer to an Accept header that allows no JSON media type (RFC 9110
// §15.5.7); Databricks' answer is UNKNOWN.
func errAccept(accept string) *apiError {
	return &apiError{status: http.StatusNotAcceptable, detail: "The Accept header " + quoteOrNone(accept) + " allows neither application/json nor application/scim+json."}
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// checkMedia checks, in strict mode, that a request with a body declares a JSON
// Content-Type and that the Accept header, if any, allows a JSON answer.
func (s *Server) checkMedia(r *http.Request) *apiError {
	if s.opts.Lenient {
		return nil
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		ct := r.Header.Get("Content-Type")
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !slices.Contains(jsonMediaTypes, strings.ToLower(mt)) {
			return errMedia(ct)
		}
	}
	if accept := r.Header.Values("Accept"); len(accept) > 0 && !acceptsJSON(strings.Join(accept, ",")) {
		return errAccept(strings.Join(accept, ","))
	}
	return nil
}

// acceptsJSON reports whether an Accept header allows application/json or
// application/scim+json, directly or through a wildcard, with a non-zero quality.
func acceptsJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q := params["q"]; q == "0" || q == "0.0" || q == "0.00" || q == "0.000" {
			continue
		}
		switch strings.ToLower(mt) {
		case "*/*", "application/*", "application/json", "application/scim+json":
			return true
		}
	}
	return false
}

// resourceFields are the attributes a POST or PUT body may carry per resource type
// (§2.3-§2.5, from the Go SDK's User, Group, ServicePrincipal and Account* types), besides
// the read-only ones a client may echo back from a GET (id, meta, groups, account_id),
// which are ignored.
var resourceFields = map[kind][]string{
	kindUser:  {"schemas", "id", "userName", "displayName", "name", "emails", "active", "externalId", "entitlements", "roles", "groups", "meta", "account_id"},
	kindGroup: {"schemas", "id", "displayName", "members", "groups", "entitlements", "roles", "externalId", "meta", "account_id"},
	kindSP:    {"schemas", "id", "applicationId", "displayName", "active", "externalId", "entitlements", "groups", "roles", "meta", "account_id"},
}

// resourceSchemas are the schemas URNs a resource body may name (§2.2); the first one is
// required.
var resourceSchemas = map[kind][]string{
	kindUser:  {scim.SchemaUser, scim.SchemaWorkspaceUser},
	kindGroup: {scim.SchemaGroup},
	kindSP:    {scim.SchemaServicePrincipal},
}

// strictResource is the shape a resource body must decode into in strict mode: every
// field typed as the SDK types it, and nested objects with only their documented keys.
type strictResource struct {
	Schemas       []string            `json:"schemas"`
	ID            string              `json:"id"`
	UserName      string              `json:"userName"`
	ApplicationID string              `json:"applicationId"`
	DisplayName   string              `json:"displayName"`
	Name          *scim.Name          `json:"name"`
	Emails        []scim.ComplexValue `json:"emails"`
	Active        *bool               `json:"active"`
	ExternalID    string              `json:"externalId"`
	Entitlements  []scim.ComplexValue `json:"entitlements"`
	Roles         []scim.ComplexValue `json:"roles"`
	Groups        []scim.ComplexValue `json:"groups"`
	Members       []scim.ComplexValue `json:"members"`
	Meta          *scim.Meta          `json:"meta"`
	AccountID     string              `json:"account_id"`
}

// checkResource checks, in strict mode, that a POST or PUT body of kind k has only the
// resource type's attributes, each of its documented type, and names the resource's
// schema (unless SchemalessResources). Databricks' account backend parses bodies with
// strict Jackson (§4.2 item 3: unknown fields fail), and a body that does not fit is
// answered with the documented 400 invalidSyntax text (§4.2, databricks-sdk-java#279).
func (s *Server) checkResource(b []byte, k kind) *apiError {
	if s.opts.Lenient {
		return nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil || top == nil {
		return errUnparsable()
	}
	for key := range top {
		if !slices.Contains(resourceFields[k], key) {
			return errUnparsable()
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var sr strictResource
	if err := dec.Decode(&sr); err != nil {
		return errUnparsable()
	}
	if _, ok := top["schemas"]; !ok {
		if s.opts.SchemalessResources {
			return nil
		}
		return errBadRequest("invalidSyntax", "The request body has no schemas; it must name %s.", resourceSchemas[k][0])
	}
	for _, urn := range sr.Schemas {
		if !slices.Contains(resourceSchemas[k], urn) {
			return errBadRequest("invalidSyntax", "Unsupported schema %s.", urn)
		}
	}
	if !slices.Contains(sr.Schemas, resourceSchemas[k][0]) {
		return errBadRequest("invalidSyntax", "The request body must name the schema %s.", resourceSchemas[k][0])
	}
	return nil
}
