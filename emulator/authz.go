package emulator

import (
	"net/http"
	"slices"
	"strings"

	"github.com/scimsync/scimsync/model"
)

// authorize checks that the identity owner may make the request, after authentication:
//
//   - A deactivated identity's tokens are refused (401), and the account SCIM token
//     (Options.AccountSCIMToken) works only on the account SCIM API (§7).
//   - The account APIs (the account SCIM tree and permission assignments) need an account
//     admin: an identity with the account_admin role, directly or through a group
//     (reference §2.1 roles; an OAuth service principal acts on the account only as an
//     account admin, issue 12 from the Databricks docs).
//   - A workspace's SCIM tree needs a workspace admin, except GET /Me and GET of Users and
//     Groups, which any identity of the workspace may call (§1.2). At account level a
//     workspace admin is an identity assigned ADMIN to the workspace, directly or through
//     a group (§1.5: ADMIN puts it in the workspace's admins group); at workspace level it
//     is a member of the admins group.
//
// The token owners are account admins and admins of every workspace, so only tests that
// take those rights away see a 403. The account SCIM proxy on workspace hosts (§1.3) is
// left to its own rules (workspace admins and group managers), which the sources do not
// spell out; it is allowed.
func (s *Server) authorize(r *http.Request, rt route, owner int64) *apiError {
	if rt.kind == routeOIDC {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	o := s.st.byID[owner]
	if o == nil || !o.active {
		// Deactivating an identity revokes its tokens: a personal access token stops
		// working when its owner is deactivated (issue 12 point 2, from Databricks' docs).
		return &apiError{status: http.StatusUnauthorized, detail: "Invalid access token."}
	}
	accountSCIM := rt.kind == routeSCIM && rt.view.account && s.hostIsAccount(r)
	if s.opts.AccountSCIMToken != "" && bearer(r) == s.opts.AccountSCIMToken && !accountSCIM {
		return &apiError{status: http.StatusUnauthorized, detail: "Invalid access token."}
	}
	if rt.err != nil || rt.kind == routeUnknown {
		return nil
	}
	switch {
	case accountSCIM:
		fallthrough
	case rt.kind == routeAssign:
		if !s.st.accountAdmin(o) {
			return &apiError{status: http.StatusForbidden, detail: "Only account admins can use this API."}
		}
	case rt.kind == routeSCIM && !rt.view.account:
		if rt.resource == "Me" || (r.Method == http.MethodGet && (rt.resource == "Users" || rt.resource == "Groups")) {
			return nil
		}
		if !s.st.workspaceAdmin(o, rt.view.ws) {
			return &apiError{status: http.StatusForbidden, detail: "Only workspace admins can use this API."}
		}
	}
	return nil
}

// hostIsAccount reports whether a request is addressed to the accounts host.
func (s *Server) hostIsAccount(r *http.Request) bool {
	_, ws := s.hostWorkspace(r)
	return s.st.accountLevel() && !ws
}

// accountAdmin reports whether o holds account_admin, directly or through a group.
func (s *store) accountAdmin(o *object) bool {
	if slices.Contains(o.roles, model.RoleAccountAdmin) {
		return true
	}
	for id := range s.ancestors(o) {
		if g := s.byID[id]; g != nil && slices.Contains(g.roles, model.RoleAccountAdmin) {
			return true
		}
	}
	return false
}

// workspaceAdmin reports whether o is an admin of workspace ws.
func (s *store) workspaceAdmin(o *object, ws string) bool {
	anc := s.ancestors(o)
	if !s.accountLevel() {
		_, in := anc[s.groups[groupAdmins]]
		return in
	}
	if s.assign[ws][o.id] == model.PermissionAdmin {
		return true
	}
	for id := range anc {
		if s.assign[ws][id] == model.PermissionAdmin {
			return true
		}
	}
	return false
}

// bearer returns the request's bearer token.
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
