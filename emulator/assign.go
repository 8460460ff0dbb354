package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim"
)

// serveAssignments answers the account workspace assignment API (§1.5).
func (s *Server) serveAssignments(w http.ResponseWriter, r *http.Request, rt route) {
	if rt.err != nil {
		s.fail(w, rt, rt.err)
		return
	}
	notFound := func() {
		writeRESTError(w, http.StatusNotFound, "ENDPOINT_NOT_FOUND", fmt.Sprintf("No API found for '%s %s'", r.Method, r.URL.Path))
	}
	switch {
	case rt.assign == "list" && r.Method == http.MethodGet:
		s.mu.RLock()
		ids := make([]int64, 0, len(s.st.assign[rt.ws]))
		for id := range s.st.assign[rt.ws] {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		out := scim.PermissionAssignments{PermissionAssignments: make([]scim.PermissionAssignment, 0, len(ids))}
		for _, id := range ids {
			out.PermissionAssignments = append(out.PermissionAssignments, s.assignment(rt.ws, s.st.byID[id]))
		}
		s.mu.RUnlock()
		writeJSON(w, http.StatusOK, out)
	case rt.assign == "permissions" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"permissions": []map[string]string{
			{"permission_level": model.PermissionAdmin, "description": "Can manage the workspace and its identities."},
			{"permission_level": model.PermissionUser, "description": "Can use the workspace."},
		}})
	case rt.assign == "principal" && (r.Method == http.MethodPut || r.Method == http.MethodDelete):
		id, ok := parseID(rt.id)
		if !ok {
			writeRESTError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("Invalid principal id %q.", rt.id))
			return
		}
		perm := ""
		if err := s.checkMedia(r); err != nil {
			writeRESTError(w, err.status, restCode(err.status), err.detail)
			return
		}
		if r.Method == http.MethodPut {
			b, err := readBody(r)
			var body scim.UpdatePermissions
			dec := json.NewDecoder(bytes.NewReader(b))
			if !s.opts.Lenient {
				dec.DisallowUnknownFields() // strict mode: only permissions (§1.5)
			}
			if err != nil || dec.Decode(&body) != nil {
				writeRESTError(w, http.StatusBadRequest, "MALFORMED_REQUEST", "Could not parse the request body.")
				return
			}
			perm = permission(body.Permissions)
		}
		s.mu.Lock()
		o := s.st.byID[id]
		if o == nil || o.wsLocal != "" {
			s.mu.Unlock()
			writeRESTError(w, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Principal %d does not exist.", id))
			return
		}
		s.st.setAssignment(rt.ws, id, perm)
		out := s.assignment(rt.ws, o)
		s.mu.Unlock()
		if r.Method == http.MethodDelete {
			writeJSON(w, http.StatusOK, struct{}{})
			return
		}
		writeJSON(w, http.StatusOK, out)
	default:
		notFound()
	}
}

// permission reduces a permissions list to the one that counts: ADMIN wins over USER,
// unknown values are ignored, and an empty result removes the assignment (§1.5).
func permission(list []string) string {
	perm := ""
	for _, p := range list {
		switch p {
		case model.PermissionAdmin:
			perm = model.PermissionAdmin
		case model.PermissionUser:
			if perm == "" {
				perm = model.PermissionUser
			}
		}
	}
	return perm
}

// assignment renders one principal's assignment in a workspace.
func (s *Server) assignment(ws string, o *object) scim.PermissionAssignment {
	out := scim.PermissionAssignment{
		Principal:   scim.PrincipalOutput{PrincipalID: o.id, DisplayName: o.name()},
		Permissions: []string{},
	}
	if p := s.st.assign[ws][o.id]; p != "" {
		out.Permissions = []string{p}
	}
	switch o.kind {
	case kindUser:
		out.Principal.UserName = o.userName
	case kindSP:
		out.Principal.ServicePrincipalName = o.appID
	default:
		out.Principal.GroupName = o.displayName
	}
	return out
}
