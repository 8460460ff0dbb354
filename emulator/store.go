package emulator

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimsync/scimsync/model"
)

// kind is the kind of a stored object. Its values index store.ids.
type kind int

const (
	kindUser kind = iota
	kindSP
	kindGroup
)

func (k kind) resource() string {
	switch k {
	case kindUser:
		return "Users"
	case kindSP:
		return "ServicePrincipals"
	}
	return "Groups"
}

func (k kind) noun() string {
	switch k {
	case kindUser:
		return "User"
	case kindSP:
		return "Service principal"
	}
	return "Group"
}

func (k kind) model() model.Kind {
	switch k {
	case kindUser:
		return model.KindUser
	case kindSP:
		return model.KindServicePrincipal
	}
	return model.KindGroup
}

// Names of the built-in groups (§6).
const (
	groupAdmins       = "admins"
	groupUsers        = "users"
	groupAccountUsers = "account users"
)

// object is one stored user, service principal or group. Users, service principals and
// groups share one id space, as principal ids of workspace assignments show (§1.5).
type object struct {
	kind          kind
	id            int64
	userName      string // users, lower-cased
	appID         string // service principals
	displayName   string
	givenName     string
	familyName    string
	externalID    string
	active        bool
	roles         []string            // sorted set
	ents          map[string][]string // workspace id → sorted set of entitlements
	members       map[int64]struct{}  // groups: direct members
	parents       map[int64]struct{}  // direct parent groups
	wsLocal       string              // account level: the workspace of a workspace-local group
	builtin       bool                // a reserved group, which cannot be created, renamed or deleted
	computed      string              // account level: "admins" or "users", whose members follow assignments
	autoPrincipal bool                // the token owners created by the emulator
	created       time.Time           // when an API create made it, for Options.VisibilityDelay
}

func (o *object) idString() string { return strconv.FormatInt(o.id, 10) }

// name is what other objects show as this object's display.
func (o *object) name() string {
	if o.displayName == "" && o.kind == kindUser {
		return o.userName
	}
	return o.displayName
}

// key is the object's model key.
func (o *object) key() string {
	switch o.kind {
	case kindUser:
		return model.UserKey(o.userName)
	case kindSP:
		return model.ServicePrincipalKey(o.appID)
	}
	return model.GroupKey(o.displayName)
}

// clone copies the object deeply except for parents, which only the store changes.
func (o *object) clone() *object {
	c := *o
	c.roles = slices.Clone(o.roles)
	if o.ents != nil {
		c.ents = make(map[string][]string, len(o.ents))
		for ws, e := range o.ents {
			c.ents[ws] = slices.Clone(e)
		}
	}
	if o.members != nil {
		c.members = make(map[int64]struct{}, len(o.members))
		for id := range o.members {
			c.members[id] = struct{}{}
		}
	}
	return &c
}

// apiError is an error answer of the emulator.
type apiError struct {
	status   int
	scimType string
	detail   string
}

func (e *apiError) Error() string { return strings.TrimSpace(e.scimType + " " + e.detail) }

func errBadRequest(scimType, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, scimType: scimType, detail: fmt.Sprintf(format, args...)}
}

// errUnparsable is the text Databricks answers for bodies that do not fit the schema
// (§4.2, databricks-sdk-java#279).
func errUnparsable() *apiError {
	return errBadRequest("invalidSyntax", "Request is unparsable, syntactically incorrect, or violates schema.")
}

func errNotFound(k kind, id string) *apiError {
	return &apiError{status: http.StatusNotFound, detail: fmt.Sprintf("%s with id %s not found.", k.noun(), id)}
}

func errConflict(detail string) *apiError {
	return &apiError{status: http.StatusConflict, detail: detail}
}

// view says through which tree a request sees the store.
type view struct {
	account bool   // the account tree (or its workspace-host proxy)
	ws      string // workspace id of a workspace view; entitlements are stored under it
}

// store holds every object. Its methods expect the Server's lock to be held.
type store struct {
	opts   *Options
	rng    *rand.Rand // ids and applicationIds
	nextID int64

	byID   map[int64]*object
	ids    [3][]int64 // per kind, ascending
	users  map[string]int64
	sps    map[string]int64
	groups map[string]int64            // account groups, or all groups at workspace level
	local  map[string]map[string]int64 // account level: workspace → name → local group
	assign map[string]map[int64]string // account level: workspace → principal → USER or ADMIN

	version uint64
	visMu   sync.Mutex // guards vis, which readers fill under the Server's read lock
	vis     map[string]visibility

	meUser, meSP int64
}

type visibility struct {
	version uint64
	ids     map[int64]bool
}

func newStore(opts *Options) *store {
	s := &store{
		opts:   opts,
		rng:    rand.New(rand.NewPCG(uint64(opts.Seed), 0x5c1a)),
		nextID: opts.FirstID,
		byID:   make(map[int64]*object),
		users:  make(map[string]int64),
		sps:    make(map[string]int64),
		groups: make(map[string]int64),
		local:  make(map[string]map[string]int64),
		assign: make(map[string]map[int64]string),
		vis:    make(map[string]visibility),
	}
	s.seedBuiltins()
	return s
}

func (s *store) accountLevel() bool { return s.opts.Level != model.LevelWorkspace }

// seedBuiltins creates the reserved groups (§6) and the principals that own the tokens.
func (s *store) seedBuiltins() {
	defaultEnts := map[string][]string{
		groupUsers:  {model.EntDatabricksSQLAccess, model.EntWorkspaceAccess},
		groupAdmins: {model.EntAllowClusterCreate, model.EntAllowInstancePoolCreate, model.EntDatabricksSQLAccess, model.EntWorkspaceAccess},
	}
	me := &object{kind: kindUser, userName: model.UserKey(s.opts.MeUserName), active: true, autoPrincipal: true}
	sp := &object{kind: kindSP, appID: s.opts.ClientID, displayName: s.opts.ClientID, active: true, autoPrincipal: true}
	if !s.accountLevel() {
		ws := s.opts.Workspaces[0]
		for _, name := range []string{groupAdmins, groupUsers} {
			g := &object{kind: kindGroup, displayName: name, builtin: true,
				ents: map[string][]string{ws: slices.Clone(defaultEnts[name])}}
			s.insert(g)
		}
		s.insert(me)
		s.insert(sp)
		admins := s.byID[s.groups[groupAdmins]]
		s.link(admins, me.id)
		s.link(admins, sp.id)
		return
	}
	s.insert(&object{kind: kindGroup, displayName: groupAccountUsers, builtin: true})
	me.roles = []string{model.RoleAccountAdmin}
	sp.roles = []string{model.RoleAccountAdmin}
	s.insert(me)
	s.insert(sp)
	for _, ws := range s.opts.Workspaces {
		for _, name := range []string{groupAdmins, groupUsers} {
			g := &object{kind: kindGroup, displayName: name, builtin: true, computed: name, wsLocal: ws,
				ents: map[string][]string{ws: slices.Clone(defaultEnts[name])}}
			s.insert(g)
		}
		s.assign[ws] = map[int64]string{me.id: model.PermissionAdmin, sp.id: model.PermissionAdmin}
	}
}

func (s *store) newID() int64 {
	id := s.nextID
	s.nextID += 1 + s.rng.Int64N(97)
	return id
}

// newUUID returns a version-4 UUID drawn from the store's seeded generator.
func (s *store) newUUID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// insert stores a new object, gives it an id and indexes it. Validation is the caller's.
// Users and service principals become members of the group every principal is in.
func (s *store) insert(o *object) {
	o.id = s.newID()
	if o.parents == nil {
		o.parents = make(map[int64]struct{})
	}
	if o.kind == kindGroup && o.members == nil {
		o.members = make(map[int64]struct{})
	}
	s.byID[o.id] = o
	s.ids[o.kind] = append(s.ids[o.kind], o.id) // ids only grow, so the slice stays sorted
	switch {
	case o.kind == kindUser:
		s.users[o.userName] = o.id
	case o.kind == kindSP:
		s.sps[model.ServicePrincipalKey(o.appID)] = o.id
	case o.wsLocal != "":
		if s.local[o.wsLocal] == nil {
			s.local[o.wsLocal] = make(map[string]int64)
		}
		s.local[o.wsLocal][o.displayName] = o.id
	default:
		s.groups[o.displayName] = o.id
	}
	if o.kind != kindGroup {
		all := groupUsers
		if s.accountLevel() {
			all = groupAccountUsers
		}
		if gid, ok := s.groups[all]; ok {
			s.link(s.byID[gid], o.id)
		}
	}
	s.version++
}

// link makes member a direct member of g.
func (s *store) link(g *object, member int64) {
	g.members[member] = struct{}{}
	s.byID[member].parents[g.id] = struct{}{}
	s.version++
}

func (s *store) unlink(g *object, member int64) {
	delete(g.members, member)
	if m := s.byID[member]; m != nil {
		delete(m.parents, g.id)
	}
	s.version++
}

// remove deletes an object, its memberships (both ways) and its workspace assignments.
func (s *store) remove(o *object) {
	for gid := range o.parents {
		delete(s.byID[gid].members, o.id)
	}
	for mid := range o.members {
		delete(s.byID[mid].parents, o.id)
	}
	for _, a := range s.assign {
		delete(a, o.id)
	}
	switch {
	case o.kind == kindUser:
		delete(s.users, o.userName)
	case o.kind == kindSP:
		delete(s.sps, model.ServicePrincipalKey(o.appID))
	case o.wsLocal != "":
		delete(s.local[o.wsLocal], o.displayName)
	default:
		delete(s.groups, o.displayName)
	}
	ids := s.ids[o.kind]
	if i, ok := slices.BinarySearch(ids, o.id); ok {
		s.ids[o.kind] = slices.Delete(ids, i, i+1)
	}
	delete(s.byID, o.id)
	s.version++
}

// rename moves a group to a new name in the name index.
func (s *store) rename(o *object, name string) {
	if o.wsLocal != "" {
		delete(s.local[o.wsLocal], o.displayName)
		s.local[o.wsLocal][name] = o.id
	} else {
		delete(s.groups, o.displayName)
		s.groups[name] = o.id
	}
	o.displayName = name
	s.version++
}

// groupByName finds a group by displayName as the view sees names: account groups (or all
// groups at workspace level) and, in a workspace view, that workspace's local groups.
func (s *store) groupByName(v view, name string) (int64, bool) {
	if s.accountLevel() && v.ws != "" {
		if id, ok := s.local[v.ws][name]; ok {
			return id, true
		}
	}
	id, ok := s.groups[name]
	return id, ok
}

// visible reports whether the view shows the object.
func (s *store) visible(o *object, v view) bool {
	switch {
	case o == nil:
		return false
	case v.account:
		return o.wsLocal == ""
	case !s.accountLevel():
		return true
	case o.wsLocal != "":
		return o.wsLocal == v.ws
	case s.opts.WorkspaceShowsUnassigned:
		return true
	}
	return s.assignedIn(v.ws)[o.id]
}

// assignedIn returns the account principals and groups a workspace shows: those assigned
// to it and, transitively, the members of assigned groups. It is cached until the next
// change.
func (s *store) assignedIn(ws string) map[int64]bool {
	s.visMu.Lock()
	defer s.visMu.Unlock()
	if c, ok := s.vis[ws]; ok && c.version == s.version {
		return c.ids
	}
	ids := make(map[int64]bool)
	var queue []int64
	for id := range s.assign[ws] {
		queue = append(queue, id)
	}
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if ids[id] {
			continue
		}
		ids[id] = true
		if o := s.byID[id]; o != nil {
			for m := range o.members {
				queue = append(queue, m)
			}
		}
	}
	s.vis[ws] = visibility{version: s.version, ids: ids}
	return ids
}

// membersOf returns a group's direct members in id order. The built-in workspace groups of
// an account-level workspace view follow the workspace's assignments.
func (s *store) membersOf(g *object) []int64 {
	var ids []int64
	if g.computed != "" {
		for id, perm := range s.assign[g.wsLocal] {
			if g.computed == groupUsers || perm == model.PermissionAdmin {
				ids = append(ids, id)
			}
		}
	} else {
		ids = make([]int64, 0, len(g.members))
		for id := range g.members {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// ancestors returns every group that contains o directly or through nested groups, with
// the length of the shortest path (1 for direct parents).
func (s *store) ancestors(o *object) map[int64]int {
	out := make(map[int64]int)
	frontier := o.parents
	for depth := 1; len(frontier) > 0; depth++ {
		next := make(map[int64]struct{})
		for id := range frontier {
			if _, seen := out[id]; seen {
				continue
			}
			out[id] = depth
			for p := range s.byID[id].parents {
				next[p] = struct{}{}
			}
		}
		frontier = next
	}
	return out
}

// height is the number of group levels from g down to its deepest nested group (1 for a
// group without group members). members overrides g's own members when not nil.
func (s *store) height(g *object, members map[int64]struct{}, seen map[int64]bool) int {
	if members == nil {
		members = g.members
	}
	seen[g.id] = true
	h := 1
	for id := range members {
		m := s.byID[id]
		if m == nil || m.kind != kindGroup || seen[id] {
			continue
		}
		if c := 1 + s.height(m, nil, seen); c > h {
			h = c
		}
	}
	delete(seen, g.id)
	return h
}

// depthAbove is the length of the longest chain of groups that contain g.
func (s *store) depthAbove(g *object, seen map[int64]bool) int {
	seen[g.id] = true
	d := 0
	for p := range g.parents {
		if seen[p] {
			continue
		}
		if c := 1 + s.depthAbove(s.byID[p], seen); c > d {
			d = c
		}
	}
	delete(seen, g.id)
	return d
}

// setMembers validates and applies a new set of direct members for g: every added member
// exists and is visible in the view, no cycle appears, the per-principal membership limit
// and the nesting limit hold (§6). Unknown ids are dropped when IgnoreUnknownMembers is set.
func (s *store) setMembers(g *object, members map[int64]struct{}, v view) *apiError {
	if g.computed != "" {
		// The members follow the assignments; sending them back unchanged (a PUT of
		// what GET returned) is fine, changing them is not.
		current := s.membersOf(g)
		same := len(current) == len(members)
		for _, id := range current {
			if _, ok := members[id]; !ok {
				same = false
			}
		}
		if same {
			return nil
		}
		return errBadRequest("invalidValue", "Members of the built-in group %s follow the workspace assignments and cannot be changed.", g.displayName)
	}
	var added, removed []int64
	for id := range members {
		if _, ok := g.members[id]; !ok {
			added = append(added, id)
		}
	}
	for id := range g.members {
		if _, ok := members[id]; !ok {
			removed = append(removed, id)
		}
	}
	if len(added) == 0 && len(removed) == 0 {
		return nil
	}
	if g.builtin && g.displayName != groupAdmins {
		return errBadRequest("invalidValue", "Members of the built-in group %s cannot be changed.", g.displayName)
	}
	slices.Sort(added)
	addedGroup := false
	var anc map[int64]int
	for _, id := range added {
		m := s.byID[id]
		if m == nil || !s.visible(m, v) || (m.wsLocal != "" && g.wsLocal == "") || m.computed != "" {
			if s.opts.IgnoreUnknownMembers {
				delete(members, id)
				continue
			}
			return errBadRequest("invalidValue", "Member with id %d does not exist.", id)
		}
		if len(m.parents) >= s.opts.MaxDirectMemberships {
			return errBadRequest("invalidValue", "Principal %d exceeds the limit of %d direct group memberships.", id, s.opts.MaxDirectMemberships)
		}
		if m.kind == kindGroup {
			if anc == nil {
				anc = s.ancestors(g)
			}
			if _, cyc := anc[id]; cyc || id == g.id {
				return errBadRequest("invalidValue", "Adding group %d to group %d would create a cycle.", id, g.id)
			}
			addedGroup = true
		}
	}
	if addedGroup {
		depth := s.height(g, members, map[int64]bool{}) + s.depthAbove(g, map[int64]bool{})
		if depth > s.opts.MaxNestingDepth {
			return errBadRequest("invalidValue", "Group nesting of %d levels exceeds the limit of %d.", depth, s.opts.MaxNestingDepth)
		}
	}
	for _, id := range removed {
		s.unlink(g, id)
	}
	for id := range members {
		if _, ok := g.members[id]; !ok {
			s.link(g, id)
		}
	}
	return nil
}

// checkCapacity enforces the object count limits (§6) for one more object of kind k.
func (s *store) checkCapacity(k kind) *apiError {
	if k == kindGroup {
		if len(s.groups) >= s.opts.MaxGroups {
			return errBadRequest("invalidValue", "The limit of %d groups has been reached.", s.opts.MaxGroups)
		}
		return nil
	}
	if len(s.ids[kindUser])+len(s.ids[kindSP]) >= s.opts.MaxPrincipals {
		return errBadRequest("invalidValue", "The limit of %d users and service principals has been reached.", s.opts.MaxPrincipals)
	}
	return nil
}

// conflict returns the 409 for a name that is already taken, with the texts Terraform
// matches (§5.1), or nil.
func (s *store) conflict(o *object, v view) *apiError {
	switch o.kind {
	case kindUser:
		if _, dup := s.users[o.userName]; dup {
			if s.accountLevel() && v.account {
				return errConflict(fmt.Sprintf("User with email %s already exists in this account", o.userName))
			}
			return errConflict(fmt.Sprintf("User with username %s already exists.", o.userName))
		}
	case kindSP:
		if _, dup := s.sps[model.ServicePrincipalKey(o.appID)]; dup {
			return errConflict(fmt.Sprintf("Service principal with application ID %s already exists.", o.appID))
		}
	case kindGroup:
		if id, dup := s.groupByName(v, o.displayName); dup && id != o.id {
			return errConflict(fmt.Sprintf("Group with name %s already exists.", o.displayName))
		}
		// A reserved name of the other level (admins or users in an account, account
		// users in a workspace) is refused with 400: the built-in group does not exist
		// here, so there is nothing to conflict with, but the name is still reserved.
		if model.IsReservedGroup(o.displayName) {
			return errBadRequest("invalidValue", "Group name %s is reserved.", o.displayName)
		}
	}
	return nil
}

// setAssignment sets or (with "") removes a principal's permission in a workspace.
func (s *store) setAssignment(ws string, id int64, perm string) {
	if perm == "" {
		delete(s.assign[ws], id)
	} else {
		if s.assign[ws] == nil {
			s.assign[ws] = make(map[int64]string)
		}
		s.assign[ws][id] = perm
	}
	s.version++
}
