package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim"
)

var kindOfResource = map[string]kind{"Users": kindUser, "ServicePrincipals": kindSP, "Groups": kindGroup}

// errEndpoint is Databricks' answer to a bad path or id (§5.1), with the documented 405.
func errEndpoint() *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, detail: "Endpoint not supported."}
}

// parseID accepts only canonical positive int64 ids; anything else is a bad path (§5.1).
func parseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != s {
		return 0, false
	}
	return id, true
}

func (s *Server) serveSCIM(w http.ResponseWriter, r *http.Request, rt route, owner int64) {
	if rt.err != nil {
		writeSCIMError(w, rt.err)
		return
	}
	if !rt.view.account {
		w.Header().Set(headerOrgID, rt.view.ws)
	}
	if err := s.checkMedia(r); err != nil {
		writeSCIMError(w, err)
		return
	}
	if rt.resource == "Me" {
		if rt.view.account || rt.id != "" || r.Method != http.MethodGet {
			writeSCIMError(w, errEndpoint())
			return
		}
		s.serveMe(w, r, rt, owner)
		return
	}
	k, ok := kindOfResource[rt.resource]
	if !ok || rt.extra {
		writeSCIMError(w, errEndpoint())
		return
	}
	if rt.id == "" {
		switch r.Method {
		case http.MethodGet:
			s.list(w, r, rt.view, k)
		case http.MethodPost:
			s.create(w, r, rt.view, k)
		default:
			writeSCIMError(w, errEndpoint())
		}
		return
	}
	id, ok := parseID(rt.id)
	if !ok {
		writeSCIMError(w, errEndpoint())
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.get(w, r, rt.view, k, id)
	case http.MethodPut:
		s.update(w, r, rt.view, k, id, false)
	case http.MethodPatch:
		s.update(w, r, rt.view, k, id, true)
	case http.MethodDelete:
		s.delete(w, rt.view, k, id)
	default:
		writeSCIMError(w, errEndpoint())
	}
}

// lookup finds an object of kind k that the view shows.
func (s *Server) lookup(v view, k kind, id int64) (*object, *apiError) {
	o := s.st.byID[id]
	if o == nil || o.kind != k || !s.st.visible(o, v) {
		return nil, errNotFound(k, strconv.FormatInt(id, 10))
	}
	return o, nil
}

func (s *Server) serveMe(w http.ResponseWriter, r *http.Request, rt route, owner int64) {
	p := newProjection(r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes"))
	s.mu.RLock()
	o := s.st.byID[owner]
	if o == nil || !s.st.visible(o, rt.view) {
		s.mu.RUnlock()
		writeSCIMError(w, errNotFound(kindUser, strconv.FormatInt(owner, 10)))
		return
	}
	res := s.st.render(o, rt.view, p, false)
	s.mu.RUnlock()
	if o.kind == kindSP {
		// /Me for a service principal's token answers a user-shaped object whose
		// userName is the applicationId (§7; Terraform's databricks_current_user tells
		// service principals from users by it).
		res["schemas"] = []string{scim.SchemaUser}
		res["userName"] = o.appID
		delete(res, "applicationId")
		p.apply(res)
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, v view, k kind, id int64) {
	p := newProjection(r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes"))
	s.mu.RLock()
	o, err := s.lookup(v, k, id)
	if err != nil {
		s.mu.RUnlock()
		writeSCIMError(w, err)
		return
	}
	res := s.st.render(o, v, p, false)
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, res)
}

// listResponse is a SCIM list page (§3): startIndex echoed, Resources with a capital R and
// never null.
type listResponse struct {
	Schemas      []string   `json:"schemas"`
	TotalResults int        `json:"totalResults"`
	StartIndex   int        `json:"startIndex"`
	ItemsPerPage int        `json:"itemsPerPage"`
	Resources    []resource `json:"Resources"`
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, v view, k kind) {
	q := r.URL.Query()
	start, count := 1, s.opts.DefaultPageSize
	if raw := q.Get("startIndex"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			writeSCIMError(w, errBadRequest("invalidValue", "Invalid startIndex %q.", raw))
			return
		}
		start = max(n, 1) // RFC 7644 §3.4.2.4: values below 1 are read as 1
	}
	if raw := q.Get("count"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			writeSCIMError(w, errBadRequest("invalidValue", "Invalid count %q.", raw))
			return
		}
		count = max(n, 0) // a negative count is read as 0: totalResults only
	}
	count = min(count, s.opts.MaxPageSize)
	var f *filter
	if raw := q.Get("filter"); strings.TrimSpace(raw) != "" {
		var err *apiError
		if f, err = parseFilter(raw); err == nil {
			err = f.check(k)
		}
		if err != nil {
			writeSCIMError(w, err)
			return
		}
	}
	p := newProjection(q.Get("attributes"), q.Get("excludedAttributes"))
	sortBy, desc := strings.ToLower(q.Get("sortBy")), strings.EqualFold(q.Get("sortOrder"), "descending")

	s.mu.RLock()
	matched := s.match(v, k, f, sortBy != "")
	matched = s.settled(matched, k)
	if sortBy != "" {
		s.sortIDs(matched, sortBy, desc)
	}
	echo := start
	if o := s.opts.PageOverlap; o > 0 && start > 1 {
		start = max(1, start-o) // the page starts early and says so
		echo = start
	}
	if s.opts.RepeatPastEnd && start > len(matched) {
		start = 1 // the whole collection again, with the startIndex asked for echoed
	}
	page := []int64{}
	if start-1 < len(matched) {
		page = matched[start-1 : min(start-1+count, len(matched))]
	}
	resp := listResponse{
		Schemas:      []string{scim.SchemaListResponse},
		TotalResults: max(0, len(matched)+s.opts.TotalResultsOffset),
		StartIndex:   echo,
		ItemsPerPage: len(page),
		Resources:    make([]resource, 0, len(page)),
	}
	for _, id := range page {
		resp.Resources = append(resp.Resources, s.st.render(s.st.byID[id], v, p, true))
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, resp)
}

// match returns the ids, ascending, of the objects of kind k that the view shows and the
// filter selects. An unfiltered list of a view that shows everything returns the store's
// own slice, which the caller must not change unless mutable is set.
func (s *Server) match(v view, k kind, f *filter, mutable bool) []int64 {
	all := s.st.ids[k]
	showsAll := (v.account && k != kindGroup) || !s.st.accountLevel()
	if f == nil && showsAll {
		if mutable {
			return slices.Clone(all)
		}
		return all
	}
	if f != nil && f.op == "eq" {
		if ids, ok := s.indexed(v, k, f); ok {
			all = ids
		}
	}
	out := []int64{}
	for _, id := range all {
		o := s.st.byID[id]
		if o == nil || o.kind != k || !s.st.visible(o, v) {
			continue
		}
		if f == nil || f.match(o, s.opts.CaseSensitiveUserNameFilter) {
			out = append(out, id)
		}
	}
	return out
}

// settled leaves out of a list the objects created less than Options.VisibilityDelay ago.
// It returns ids itself when nothing is hidden.
func (s *Server) settled(ids []int64, k kind) []int64 {
	d := s.opts.VisibilityDelay[k.resource()]
	if d <= 0 {
		return ids
	}
	now := s.opts.Now()
	var out []int64
	for i, id := range ids {
		if o := s.st.byID[id]; now.Sub(o.created) < d {
			if out == nil {
				out = append(make([]int64, 0, len(ids)), ids[:i]...)
			}
			continue
		}
		if out != nil {
			out = append(out, id)
		}
	}
	if out == nil {
		return ids
	}
	return out
}

// indexed answers an eq filter on a key attribute from the indexes, in O(1).
func (s *Server) indexed(v view, k kind, f *filter) ([]int64, bool) {
	var id int64
	var ok bool
	switch {
	case f.attr == "id":
		id, ok = parseID(f.value)
		if !ok {
			return []int64{}, true
		}
	case f.attr == "username" && k == kindUser:
		key := f.value
		if !s.opts.CaseSensitiveUserNameFilter {
			key = model.UserKey(key)
		}
		id, ok = s.st.users[key]
	case f.attr == "applicationid" && k == kindSP:
		id, ok = s.st.sps[model.ServicePrincipalKey(f.value)]
	case f.attr == "displayname" && k == kindGroup && (v.account || !s.st.accountLevel()):
		id, ok = s.st.groups[f.value]
	default:
		return nil, false
	}
	if !ok {
		return []int64{}, true
	}
	return []int64{id}, true
}

// sortIDs orders ids by a sortBy attribute (§3), ties by id. Unknown attributes keep id
// order: the real server's behaviour for them is UNKNOWN.
func (s *Server) sortIDs(ids []int64, by string, desc bool) {
	val := func(o *object) string {
		switch by {
		case "username", "emails", "emails.value":
			return o.userName
		case "displayname":
			return o.displayName
		case "applicationid":
			return o.appID
		case "externalid":
			return o.externalID
		case "name.givenname":
			return o.givenName
		case "name.familyname":
			return o.familyName
		}
		return ""
	}
	slices.SortStableFunc(ids, func(a, b int64) int {
		c := strings.Compare(val(s.st.byID[a]), val(s.st.byID[b]))
		if desc {
			c = -c
		}
		return c
	})
}

func readBody(r *http.Request) ([]byte, *apiError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, errUnparsable()
	}
	return b, nil
}

// wireResource is the union of the SCIM resource fields the emulator reads from POST and
// PUT bodies.
type wireResource struct {
	UserName      string              `json:"userName"`
	ApplicationID string              `json:"applicationId"`
	DisplayName   string              `json:"displayName"`
	Name          *scim.Name          `json:"name"`
	Active        *bool               `json:"active"`
	ExternalID    string              `json:"externalId"`
	Entitlements  []scim.ComplexValue `json:"entitlements"`
	Roles         []scim.ComplexValue `json:"roles"`
	Members       []scim.ComplexValue `json:"members"`
}

func decodeResource(b []byte) (*wireResource, *apiError) {
	var wr wireResource
	if err := json.Unmarshal(b, &wr); err != nil {
		return nil, errUnparsable()
	}
	return &wr, nil
}

func complexValues(cv []scim.ComplexValue) []string {
	out := make([]string, 0, len(cv))
	for _, c := range cv {
		out = append(out, c.Value)
	}
	return model.SortedSet(out)
}

// errAccountEntitlements is the answer to entitlements on the account tree (§5.1, §6).
func errAccountEntitlements() *apiError {
	return errBadRequest("invalidValue", "entitlements can only be managed at the workspace level")
}

func checkEntitlements(ents []string) *apiError {
	for _, e := range ents {
		if !model.IsEntitlement(e) {
			return errBadRequest("invalidValue", "Entitlement %s is not supported.", e)
		}
	}
	return nil
}

// fill sets the writable attributes of o from a POST or PUT body. userName, emails and
// applicationId are not among them (§2.3, §2.5), nor are groups (PUT with groups is an
// UNKNOWN; the emulator ignores them).
func (s *Server) fill(o *object, wr *wireResource, v view) *apiError {
	if len(wr.ExternalID) > 64 {
		return errBadRequest("invalidValue", "externalId must be at most 64 characters.")
	}
	o.displayName = strings.TrimSpace(wr.DisplayName)
	o.externalID = wr.ExternalID
	o.givenName, o.familyName = "", ""
	if wr.Name != nil {
		o.givenName, o.familyName = wr.Name.GivenName, wr.Name.FamilyName
	}
	o.active = wr.Active == nil || *wr.Active
	o.roles = complexValues(wr.Roles)
	ents := complexValues(wr.Entitlements)
	if v.account {
		if len(ents) > 0 {
			return errAccountEntitlements()
		}
	} else {
		if err := checkEntitlements(ents); err != nil {
			return err
		}
		if o.ents == nil {
			o.ents = make(map[string][]string)
		}
		o.ents[v.ws] = ents
	}
	if o.kind == kindGroup {
		if o.displayName == "" {
			return errBadRequest("invalidValue", "displayName is required.")
		}
		if len(o.displayName) > 255 {
			return errBadRequest("invalidValue", "displayName must be at most 255 characters.")
		}
		members := make(map[int64]struct{}, len(wr.Members))
		for _, m := range wr.Members {
			id, ok := parseID(m.Value)
			if !ok {
				if s.opts.IgnoreUnknownMembers {
					continue
				}
				return errBadRequest("invalidValue", "Member with id %s does not exist.", m.Value)
			}
			members[id] = struct{}{}
		}
		o.members = members
	}
	return nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, v view, k kind) {
	b, err := readBody(r)
	if err != nil {
		writeSCIMError(w, err)
		return
	}
	if err := s.checkResource(b, k); err != nil {
		writeSCIMError(w, err)
		return
	}
	wr, err := decodeResource(b)
	if err != nil {
		writeSCIMError(w, err)
		return
	}
	s.mu.Lock()
	o, err := s.createLocked(wr, v, k)
	var res resource
	if err == nil {
		res = s.st.render(o, v, projection{}, false)
	}
	s.mu.Unlock()
	if err != nil {
		writeSCIMError(w, err)
		return
	}
	w.Header().Set("Location", k.resource()+"/"+o.idString())
	writeJSON(w, s.opts.CreateStatus, res)
}

// createLocked creates an object from a POST body. A client-supplied id is ignored (an
// UNKNOWN). At account level, a user or service principal created through a workspace view
// is created in the account and assigned USER in that workspace, and a group created there
// is a workspace-local group (§6).
func (s *Server) createLocked(wr *wireResource, v view, k kind) (*object, *apiError) {
	st := s.st
	o := &object{kind: k}
	if st.accountLevel() && !v.account && k == kindGroup {
		o.wsLocal = v.ws
	}
	if err := s.fill(o, wr, v); err != nil {
		return nil, err
	}
	members := o.members
	o.members = nil
	switch k {
	case kindUser:
		o.userName = model.UserKey(wr.UserName)
		if o.userName == "" {
			return nil, errBadRequest("invalidValue", "userName is required.")
		}
		if s.opts.SplitDisplayName && wr.Name == nil {
			if given, family, ok := strings.Cut(o.displayName, " "); ok {
				o.givenName, o.familyName = given, strings.TrimSpace(family)
			}
		}
	case kindSP:
		o.appID = strings.TrimSpace(wr.ApplicationID)
		if o.appID == "" {
			o.appID = st.newUUID()
		}
		if o.displayName == "" {
			o.displayName = o.appID
		}
	}
	if err := st.conflict(o, v); err != nil {
		return nil, err
	}
	if err := st.checkCapacity(k); err != nil {
		return nil, err
	}
	st.insert(o)
	o.created = s.opts.Now()
	if k == kindGroup && len(members) > 0 {
		if err := st.setMembers(o, members, v); err != nil {
			st.remove(o)
			return nil, err
		}
	}
	if st.accountLevel() && !v.account && k != kindGroup {
		st.setAssignment(v.ws, o.id, model.PermissionUser)
	}
	return o, nil
}

// update answers PUT (replace the resource, §4.3) and PATCH (§4.2).
func (s *Server) update(w http.ResponseWriter, r *http.Request, v view, k kind, id int64, patch bool) {
	b, err := readBody(r)
	if err != nil {
		writeSCIMError(w, err)
		return
	}
	var ops []patchOp
	var wr *wireResource
	if patch {
		ops, err = parsePatch(b, patchRules{strictRemove: s.strictRemove(v), strict: !s.opts.Lenient})
	} else if err = s.checkResource(b, k); err == nil {
		wr, err = decodeResource(b)
	}
	if err != nil {
		writeSCIMError(w, err)
		return
	}
	s.mu.Lock()
	o, err := s.lookup(v, k, id)
	if err == nil {
		c := o.clone()
		if patch {
			err = s.applyPatch(c, ops, v)
		} else {
			err = s.fill(c, wr, v)
		}
		if err == nil {
			err = s.commit(o, c, v)
		}
	}
	var res resource
	if err == nil && s.opts.PatchResponse == PatchResource {
		res = s.st.render(o, v, projection{}, false)
	}
	s.mu.Unlock()
	switch {
	case err != nil:
		writeSCIMError(w, err)
	case s.opts.PatchResponse == PatchNoContent:
		w.WriteHeader(http.StatusNoContent)
	case s.opts.PatchResponse == PatchEmpty:
		writeJSON(w, http.StatusOK, struct{}{})
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func (s *Server) strictRemove(v view) bool {
	return s.opts.StrictRemove || (v.account && !s.opts.LenientRemove)
}

// commit validates the changed copy c of o and writes it back: a rename must keep group
// names unique and leave built-in groups alone, members must pass store.setMembers, and the
// admins group keeps the entitlements Databricks does not let it lose (§6).
func (s *Server) commit(o, c *object, v view) *apiError {
	st := s.st
	if c.displayName != o.displayName && st.accountLevel() && !v.account && o.wsLocal == "" {
		// §2.3: with identity federation, names of account objects change only through
		// the account API.
		return errBadRequest("invalidValue", "displayName cannot be updated through the workspace API when identity federation is enabled; use the account API.")
	}
	if o.kind == kindGroup {
		if c.displayName != o.displayName {
			if o.builtin {
				return errBadRequest("invalidValue", "The built-in group %s cannot be renamed.", o.displayName)
			}
			if c.displayName == "" {
				return errBadRequest("invalidValue", "displayName is required.")
			}
			if err := st.conflict(c, v); err != nil {
				return err
			}
		}
		if o.builtin && o.displayName == groupAdmins && !v.account {
			have := c.ents[v.ws]
			for _, e := range []string{model.EntWorkspaceAccess, model.EntAllowClusterCreate, model.EntAllowInstancePoolCreate} {
				if !slices.Contains(have, e) {
					return errBadRequest("invalidValue", "The entitlement %s cannot be removed from the admins group.", e)
				}
			}
		}
		if err := st.setMembers(o, c.members, v); err != nil {
			return err
		}
		if c.displayName != o.displayName {
			st.rename(o, c.displayName)
		}
	} else {
		o.displayName = c.displayName
	}
	o.givenName, o.familyName = c.givenName, c.familyName
	o.externalID = c.externalID
	o.active = c.active
	o.roles = c.roles
	o.ents = c.ents
	st.version++
	return nil
}

func (s *Server) delete(w http.ResponseWriter, v view, k kind, id int64) {
	s.mu.Lock()
	o, err := s.lookup(v, k, id)
	if err == nil {
		switch {
		case o.builtin:
			err = errBadRequest("invalidValue", "The built-in group %s cannot be deleted.", o.displayName)
		case s.st.accountLevel() && !v.account && o.wsLocal == "":
			// A workspace cannot delete account objects; deleting one through a
			// workspace view removes it from the workspace (§6).
			s.st.setAssignment(v.ws, o.id, "")
		default:
			s.st.remove(o)
		}
	}
	s.mu.Unlock()
	if err != nil {
		writeSCIMError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
