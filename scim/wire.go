package scim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// SCIM schema URNs used by Databricks.
const (
	SchemaUser             = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaWorkspaceUser    = "urn:ietf:params:scim:schemas:extension:workspace:2.0:User"
	SchemaGroup            = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaServicePrincipal = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal"
	SchemaListResponse     = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SchemaPatchOp          = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SchemaError            = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// ComplexValue is SCIM's multi-valued attribute element (members, groups, entitlements,
// roles, emails).
type ComplexValue struct {
	Value   string `json:"value,omitempty"`
	Display string `json:"display,omitempty"`
	Ref     string `json:"$ref,omitempty"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Name is a user's structured name.
type Name struct {
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
}

// Meta is the server-set resource metadata. ResourceType is "Group" for account groups and
// "WorkspaceGroup" for workspace-local groups in workspace group lists.
type Meta struct {
	ResourceType string `json:"resourceType,omitempty"`
}

// User is a SCIM user as Databricks sends and accepts it. Active is a pointer so that
// active=false is always sent when set (Databricks' Go SDK omits it by mistake unless forced).
type User struct {
	Schemas      []string       `json:"schemas,omitempty"`
	ID           string         `json:"id,omitempty"`
	UserName     string         `json:"userName,omitempty"`
	DisplayName  string         `json:"displayName,omitempty"`
	Name         *Name          `json:"name,omitempty"`
	Emails       []ComplexValue `json:"emails,omitempty"`
	Active       *bool          `json:"active,omitempty"`
	ExternalID   string         `json:"externalId,omitempty"`
	Entitlements []ComplexValue `json:"entitlements,omitempty"`
	Roles        []ComplexValue `json:"roles,omitempty"`
	Groups       []ComplexValue `json:"groups,omitempty"`
	AccountID    string         `json:"account_id,omitempty"`
}

// Group is a SCIM group.
type Group struct {
	Schemas      []string       `json:"schemas,omitempty"`
	ID           string         `json:"id,omitempty"`
	DisplayName  string         `json:"displayName,omitempty"`
	ExternalID   string         `json:"externalId,omitempty"`
	Members      []ComplexValue `json:"members,omitempty"`
	Groups       []ComplexValue `json:"groups,omitempty"`
	Entitlements []ComplexValue `json:"entitlements,omitempty"`
	Roles        []ComplexValue `json:"roles,omitempty"`
	Meta         *Meta          `json:"meta,omitempty"`
	AccountID    string         `json:"account_id,omitempty"`
}

// ServicePrincipal is a SCIM service principal.
type ServicePrincipal struct {
	Schemas       []string       `json:"schemas,omitempty"`
	ID            string         `json:"id,omitempty"`
	ApplicationID string         `json:"applicationId,omitempty"`
	DisplayName   string         `json:"displayName,omitempty"`
	Active        *bool          `json:"active,omitempty"`
	ExternalID    string         `json:"externalId,omitempty"`
	Entitlements  []ComplexValue `json:"entitlements,omitempty"`
	Roles         []ComplexValue `json:"roles,omitempty"`
	Groups        []ComplexValue `json:"groups,omitempty"`
	AccountID     string         `json:"account_id,omitempty"`
}

// ListResponse is one page of a SCIM list. Resources is spelled with a capital R on the wire.
// itemsPerPage is not to be trusted (Databricks has sent 0 with a full page).
type ListResponse[T any] struct {
	Schemas      []string `json:"schemas,omitempty"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []T      `json:"Resources"`
}

// PatchOp is a SCIM PATCH request body.
type PatchOp struct {
	Schemas    []string    `json:"schemas"`
	Operations []Operation `json:"Operations"`
}

// Operation is one PATCH operation. Value is left out entirely when nil, as the account
// backend rejects a remove that carries a value.
type Operation struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// MemberFilterPath returns the PATCH path that selects one member by id:
// members[value eq "<id>"].
func MemberFilterPath(attr, value string) string {
	return fmt.Sprintf("%s[value eq %s]", attr, strconv.Quote(value))
}

// ErrorBody is a SCIM error response (RFC 7644 §3.12). Status is a string on the wire.
type ErrorBody struct {
	Schemas  []string `json:"schemas,omitempty"`
	Detail   string   `json:"detail,omitempty"`
	Status   string   `json:"status,omitempty"`
	ScimType string   `json:"scimType,omitempty"`
}

// PermissionAssignment is one principal's workspace permissions, as the account
// permissionassignments API returns it.
type PermissionAssignment struct {
	Principal   PrincipalOutput `json:"principal"`
	Permissions []string        `json:"permissions"`
	Error       string          `json:"error,omitempty"`
}

// PrincipalOutput describes the principal of a permission assignment. Exactly one of the
// name fields is set.
type PrincipalOutput struct {
	PrincipalID          int64  `json:"principal_id"`
	DisplayName          string `json:"display_name,omitempty"`
	UserName             string `json:"user_name,omitempty"`
	GroupName            string `json:"group_name,omitempty"`
	ServicePrincipalName string `json:"service_principal_name,omitempty"`
}

// PermissionAssignments is the list response of the permissionassignments API.
type PermissionAssignments struct {
	PermissionAssignments []PermissionAssignment `json:"permission_assignments"`
}

// UpdatePermissions is the body of a permission assignment PUT.
type UpdatePermissions struct {
	Permissions []string `json:"permissions"`
}

// TokenResponse is an OAuth token endpoint response.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// OAuthMetadata is the subset of the OAuth authorization server metadata Databricks
// workspaces publish at /oidc/.well-known/oauth-authorization-server.
type OAuthMetadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
}

// Bool returns a pointer to b, for the Active fields.
func Bool(b bool) *bool { return &b }

// ParseActive reads an "active" PATCH value in any of the forms Databricks clients send: a
// JSON boolean, the string "true"/"false", or Terraform's list form [{"value":"false"}].
func ParseActive(raw json.RawMessage) (bool, error) {
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strconv.ParseBool(strings.TrimSpace(s))
	}
	var list []struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &list); err == nil && len(list) == 1 {
		return ParseActive(list[0].Value)
	}
	return false, fmt.Errorf("active must be a boolean, got %s", raw)
}
