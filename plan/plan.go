package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
)

// FormatVersion is the version of the plan file format this build writes and reads.
// It changes whenever a field's meaning changes; apply refuses any other version.
// Version 2 gave each change a typed payload (Set, Permission, Entitlements) and made
// per-workspace entitlement changes an action of their own.
const FormatVersion = 2

// Action says what a change does.
type Action string

// The actions of a plan. Change documents what each one carries.
const (
	Create          Action = "create"
	Update          Action = "update"
	Rename          Action = "rename"
	Deactivate      Action = "deactivate"
	Reactivate      Action = "reactivate"
	Delete          Action = "delete"
	AddMembers      Action = "add-members"
	RemoveMembers   Action = "remove-members"
	Assign          Action = "assign"
	SetEntitlements Action = "set-entitlements"
	Unassign        Action = "unassign"
)

// Actions lists every action in display order.
var Actions = []Action{Create, Update, Rename, Reactivate, AddMembers, RemoveMembers, Assign, SetEntitlements, Unassign, Deactivate, Delete}

// IsRemoval reports whether the action removes access: a deactivation or deletion.
func (a Action) IsRemoval() bool { return a == Deactivate || a == Delete }

// IsMembership reports whether the action changes the direct members of a group.
func (a Action) IsMembership() bool { return a == AddMembers || a == RemoveMembers }

// TargetID names the account or workspace a plan was made for. Apply refuses a plan whose
// TargetID differs from the target it is pointed at.
type TargetID struct {
	Level       model.Level `json:"level"`
	Host        string      `json:"host"`
	AccountID   string      `json:"accountId,omitempty"`
	WorkspaceID string      `json:"workspaceId,omitempty"`
}

// String formats the target for messages.
func (t TargetID) String() string {
	if t.Level == model.LevelAccount {
		return fmt.Sprintf("account %s at %s", t.AccountID, t.Host)
	}
	if t.WorkspaceID != "" {
		return fmt.Sprintf("workspace %s at %s", t.WorkspaceID, t.Host)
	}
	return "workspace at " + t.Host
}

// Plan is the result of Diff: an ordered list of changes and everything apply needs to check
// that they still fit the live state. A Plan is a plain value; Encode and Decode turn it into
// the versioned plan file.
type Plan struct {
	FormatVersion int       `json:"formatVersion"`
	ToolVersion   string    `json:"toolVersion"`
	CreatedAt     time.Time `json:"createdAt"`
	Target        TargetID  `json:"target"`
	// Risks are the grants of privilege, removals and protected identities of the plan,
	// for review first; display data, never read by apply.
	Risks []Risk `json:"risks,omitempty"`
	// AuthType names the authentication the plan was made with (pat, oauth-m2m,
	// github-oidc, ...), never a secret. It is for display: a plan made with one kind of
	// credentials may be applied with another.
	AuthType string `json:"authType,omitempty"`
	// DesiredDigest identifies the desired state the plan was made from.
	DesiredDigest string        `json:"desiredDigest"`
	Policy        policy.Policy `json:"policy"`
	// GuardOverride records that the plan was made with the removal guards overridden.
	GuardOverride bool `json:"guardOverride"`
	// Protected lists the identities the policy kept out of the plan, for display.
	Protected []model.Ref `json:"protected,omitempty"`
	// Workspaces are the workspaces whose assignments the plan manages (id and host only).
	Workspaces []model.Workspace `json:"workspaces,omitempty"`
	// Fingerprints describe the live objects the plan reads or changes, as they were when
	// it was made: the object of every change, the members its membership changes name,
	// and the assignments or entitlements of each workspace it changes. Apply re-reads
	// these, and only these, before any write.
	Fingerprints []Fingerprint `json:"fingerprints"`
	Changes      []Change      `json:"changes"`
	// AdminGuardOverride records that the plan was made with the admin guard overridden.
	AdminGuardOverride bool `json:"adminGuardOverride,omitempty"`
	// IdentityUnknown says that the identity that owns the credentials could not be found
	// out (a token at account level): it is protected only if the policy lists it.
	IdentityUnknown bool `json:"identityUnknown,omitempty"`
	// Blocked lists what the desired state asks for and Databricks cannot do, such as a
	// userName change without policy.allowUserReplace. A plan with blocked entries never
	// says that the live state matches the desired one.
	Blocked  []Blocked `json:"blocked,omitempty"`
	Warnings []string  `json:"warnings,omitempty"`
	Summary  Summary   `json:"summary"`
	// Live says where the live state came from when it was not read through the API: a
	// snapshot file, with the time it was taken. Apply re-reads the objects the plan
	// touches from the account whatever this says.
	Live *LiveSource `json:"live,omitempty"`
	// Checksum is a SHA-256 over the rest of the file; it catches truncated or hand-edited
	// plans. It is an integrity check, not a signature.
	Checksum string `json:"checksum"`
}

// Change is one step of a plan. Action says what it does; Kind, Key and ID name the object
// it is about; the payload fields that Action names hold everything apply needs, and apply
// reads nothing else. Attributes and Reason are for display only, as are Before and After
// except where the table below says otherwise.
//
//	Action           Payload (read by apply)                   Before          After
//	Create           After: the object to create, without      nil             the payload
//	                 id or members (a group gets its members
//	                 through an AddMembers change)
//	Update           Set: the attributes to change             live object     Before with Set
//	Rename           Set, with DisplayName (groups only)       live object     Before with Set
//	Reactivate       Set, with Active true                     live object     Before with Set
//	Deactivate       Set, with Active false                    live object     Before with Set
//	Delete           none: Kind and ID suffice                 live object     nil
//	AddMembers       Members to add (ID empty: created here)   nil             nil
//	RemoveMembers    Members to remove                         nil             nil
//	Assign           Workspace, Permission (To is USER/ADMIN;  nil             nil
//	                 From the live one, "" when unassigned)
//	Unassign         Workspace, Permission (To is "")          nil             nil
//	SetEntitlements  Workspace, Entitlements to grant and      nil             nil
//	                 revoke there (account level only)
//
// For Update, Rename, Reactivate and Deactivate apply sends the attributes of Set that
// differ from Before; Before is the live object the plan was made from, which the plan's
// fingerprints guarantee is still current. At workspace level entitlements are attributes
// of the object and change through Set; at account level they are per workspace and change
// through SetEntitlements. Decode refuses a change whose payload does not match its action.
type Change struct {
	Action Action     `json:"action"`
	Kind   model.Kind `json:"kind"`
	Key    string     `json:"key"`
	// ID is the SCIM id of the live object; empty when the object is created by this plan.
	ID string `json:"id,omitempty"`
	// Name is the displayName of a service principal whose key is its applicationId, so
	// that people see which principal a change is about. Display only.
	Name string `json:"name,omitempty"`
	// Workspace is the workspace id of Assign, Unassign and SetEntitlements.
	Workspace string `json:"workspace,omitempty"`

	// Set is the payload of Update, Rename, Reactivate and Deactivate.
	Set *Set `json:"set,omitempty"`
	// Members is the payload of AddMembers and RemoveMembers.
	Members []Member `json:"members,omitempty"`
	// Permission is the payload of Assign and Unassign.
	Permission *PermissionChange `json:"permission,omitempty"`
	// Entitlements is the payload of SetEntitlements.
	Entitlements *EntitlementChange `json:"entitlements,omitempty"`

	// Attributes list the attribute-level differences, for display.
	Attributes []Attribute `json:"attributes,omitempty"`
	Before     *Object     `json:"before,omitempty"`
	After      *Object     `json:"after,omitempty"`
	// Reason explains the change to a reader; apply never looks at it.
	Reason string `json:"reason"`
}

// Ref returns the reference of the object the change is about.
func (c *Change) Ref() model.Ref { return model.Ref{Kind: c.Kind, Key: c.Key} }

// Set holds the attributes an update changes, each with the value it gets; a nil field is
// left as it is. Lists (roles, entitlements) are set as a whole: what they do not hold is
// removed.
type Set struct {
	DisplayName  *string   `json:"displayName,omitempty"`
	GivenName    *string   `json:"givenName,omitempty"`    // users only
	FamilyName   *string   `json:"familyName,omitempty"`   // users only
	ExternalID   *string   `json:"externalId,omitempty"`   //
	Active       *bool     `json:"active,omitempty"`       // users and service principals
	Roles        *[]string `json:"roles,omitempty"`        //
	Entitlements *[]string `json:"entitlements,omitempty"` // workspace level only
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func setList(dst *[]string, v *[]string) {
	if v != nil {
		*dst = slices.Clone(*v)
	}
}

// applyUser sets the attributes of s on u.
func (s *Set) applyUser(u *model.User) {
	setString(&u.DisplayName, s.DisplayName)
	setString(&u.GivenName, s.GivenName)
	setString(&u.FamilyName, s.FamilyName)
	setString(&u.ExternalID, s.ExternalID)
	if s.Active != nil {
		u.Active = *s.Active
	}
	setList(&u.Roles, s.Roles)
	setList(&u.Entitlements, s.Entitlements)
}

// applyServicePrincipal sets the attributes of s on p.
func (s *Set) applyServicePrincipal(p *model.ServicePrincipal) {
	setString(&p.DisplayName, s.DisplayName)
	setString(&p.ExternalID, s.ExternalID)
	if s.Active != nil {
		p.Active = *s.Active
	}
	setList(&p.Roles, s.Roles)
	setList(&p.Entitlements, s.Entitlements)
}

// applyGroup sets the attributes of s on g.
func (s *Set) applyGroup(g *model.Group) {
	setString(&g.DisplayName, s.DisplayName)
	setString(&g.ExternalID, s.ExternalID)
	setList(&g.Roles, s.Roles)
	setList(&g.Entitlements, s.Entitlements)
}

// PermissionChange is a workspace permission going From one value To another; "" means
// not assigned.
type PermissionChange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// EntitlementChange lists the entitlements a principal gets (Grant) and loses (Revoke) in
// one workspace.
type EntitlementChange struct {
	Grant  []string `json:"grant,omitempty"`
	Revoke []string `json:"revoke,omitempty"`
}

// Attribute is an attribute-level difference, for display. Values are strings, booleans
// or string lists.
type Attribute struct {
	Name   string `json:"name"`
	Before any    `json:"before"`
	After  any    `json:"after"`
}

// Member is a group member added or removed. ID is empty for a member created by the plan.
type Member struct {
	Kind model.Kind `json:"kind"`
	Key  string     `json:"key"`
	ID   string     `json:"id,omitempty"`
}

// Object holds one identity object; exactly one field is set.
type Object struct {
	User             *model.User             `json:"user,omitempty"`
	ServicePrincipal *model.ServicePrincipal `json:"servicePrincipal,omitempty"`
	Group            *model.Group            `json:"group,omitempty"`
}

// kind returns the kind of the object held, or "" when none is.
func (o *Object) kind() model.Kind {
	switch {
	case o == nil:
		return ""
	case o.User != nil:
		return model.KindUser
	case o.ServicePrincipal != nil:
		return model.KindServicePrincipal
	case o.Group != nil:
		return model.KindGroup
	}
	return ""
}

// check reports a change whose payload does not match its action, as Change documents it.
func (c *Change) check() error {
	has := func(ok bool, what string) error {
		if !ok {
			return fmt.Errorf("%s without %s", c.Action, what)
		}
		return nil
	}
	var err error
	switch c.Action {
	case Create:
		err = has(c.After.kind() == c.Kind && c.Kind != "", "the "+string(c.Kind)+" to create in after")
	case Update, Rename, Reactivate, Deactivate:
		if err = has(c.Set != nil, "set"); err == nil {
			err = has(c.Before.kind() == c.Kind && c.Kind != "", "the live "+string(c.Kind)+" in before")
		}
	case Delete:
		err = has(c.ID != "", "an id")
	case AddMembers, RemoveMembers:
		err = has(len(c.Members) > 0, "members")
	case Assign, Unassign:
		if err = has(c.Workspace != "" && c.Permission != nil, "workspace and permission"); err == nil {
			err = has((c.Permission.To != "") == (c.Action == Assign), "a matching permission.to")
		}
	case SetEntitlements:
		err = has(c.Workspace != "" && c.Entitlements != nil, "workspace and entitlements")
	default:
		err = fmt.Errorf("unknown action %q", c.Action)
	}
	return err
}

// Fingerprint records the attributes that matter of one live object at plan time, as a
// digest. An object the plan expects not to exist has Digest "absent".
type Fingerprint struct {
	Kind   FingerprintKind `json:"kind"`
	Key    string          `json:"key"`
	ID     string          `json:"id,omitempty"`
	Digest string          `json:"digest"`
}

// FingerprintKind says what a fingerprint describes: an identity (the kinds of model.Kind,
// keyed by the identity's key), or one workspace's assignments or entitlements (keyed by
// the workspace id).
type FingerprintKind string

// The kinds of fingerprint.
const (
	FingerprintUser                             = FingerprintKind(model.KindUser)
	FingerprintServicePrincipal                 = FingerprintKind(model.KindServicePrincipal)
	FingerprintGroup                            = FingerprintKind(model.KindGroup)
	FingerprintAssignments      FingerprintKind = "assignments"
	FingerprintEntitlements     FingerprintKind = "entitlements"
)

// Absent is the digest of an object the plan expects not to exist.
const Absent = "absent"

// Summary counts the changes of a plan by action.
type Summary struct {
	Total    int            `json:"total"`
	ByAction map[Action]int `json:"byAction"`
	Removals int            `json:"removals"`
	Managed  int            `json:"managed"`
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Settled reports whether the live state matches the desired one: no changes and nothing
// blocked.
func (p *Plan) Settled() bool { return p.Empty() && len(p.Blocked) == 0 }

// Blocked is a difference between the desired and the live state that no change can
// remove: what Databricks cannot do, or what the policy forbids.
type Blocked struct {
	Kind model.Kind `json:"kind"`
	Key  string     `json:"key"`
	// Reason says why, and what would unblock it.
	Reason string `json:"reason"`
}

func (p *Plan) summarize() {
	s := Summary{Total: len(p.Changes), ByAction: map[Action]int{}, Managed: p.Summary.Managed}
	for _, c := range p.Changes {
		s.ByAction[c.Action]++
		if c.Action.IsRemoval() {
			s.Removals++
		}
	}
	p.Summary = s
}

// checkChanges returns a *FormatError naming the first change whose payload does not fit
// its action (see Change).
func (p *Plan) checkChanges() error {
	for i := range p.Changes {
		if err := p.Changes[i].check(); err != nil {
			return &FormatError{Reason: fmt.Sprintf("change %d (%s): %v", i+1, describe(&p.Changes[i]), err)}
		}
	}
	return nil
}

// checkVersion returns a *FormatError wrapping ErrVersion for a format version other than
// FormatVersion, saying whether the plan is older or newer than this build.
func checkVersion(v int) error {
	switch {
	case v == FormatVersion:
		return nil
	case v < FormatVersion:
		return &FormatError{Err: ErrVersion,
			Reason: fmt.Sprintf("this plan was written by an older scimsync (format %d); make a new plan", v)}
	}
	return &FormatError{Err: ErrVersion,
		Reason: fmt.Sprintf("this plan was written by a newer scimsync (format %d, this one reads format %d); make a new plan with this version or use the newer one", v, FormatVersion)}
}

// jsonErrorText turns a JSON decoding error into text that names the line.
func jsonErrorText(data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return err.Error()
	}
	line := 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n"))
	return fmt.Sprintf("line %d: %v", line, err)
}

// digest returns a short, stable digest of v's JSON form.
func digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Model values always marshal; a failure here is a programming error.
		panic(fmt.Sprintf("plan: digest: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// DesiredDigest returns the digest that identifies a desired state.
func DesiredDigest(s *model.State) string {
	sum := sha256.Sum256(mustJSON(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("plan: marshal: %v", err))
	}
	return b
}

// Fingerprints computes the fingerprints of every object in a live state, sorted. A
// group's digest leaves its members out: a membership change names the members it adds or
// removes, and its effect does not depend on the group's other members.
func Fingerprints(live *model.State) []Fingerprint {
	return fingerprintsOf(live, nil)
}

// fingerprintsOf computes the fingerprints of the objects of live that t holds (all of
// them when t is nil): objects by kind and SCIM id, workspaces by id under the kinds
// FingerprintAssignments and FingerprintEntitlements.
func fingerprintsOf(live *model.State, t *touched) []Fingerprint {
	want := func(kind FingerprintKind, id string) bool { return t == nil || t.ids[touchedRef{kind, id}] }
	fps := []Fingerprint{}
	for i := range live.Users {
		if u := &live.Users[i]; want(FingerprintUser, u.ID) {
			fps = append(fps, Fingerprint{Kind: FingerprintUser, Key: u.Key(), ID: u.ID, Digest: digest(u)})
		}
	}
	for i := range live.ServicePrincipals {
		if p := &live.ServicePrincipals[i]; want(FingerprintServicePrincipal, p.ID) {
			fps = append(fps, Fingerprint{Kind: FingerprintServicePrincipal, Key: p.Key(), ID: p.ID, Digest: digest(p)})
		}
	}
	for i := range live.Groups {
		if g := &live.Groups[i]; want(FingerprintGroup, g.ID) {
			fps = append(fps, Fingerprint{Kind: FingerprintGroup, Key: g.Key(), ID: g.ID, Digest: groupDigest(g)})
		}
	}
	for _, w := range live.Workspaces {
		if want(FingerprintAssignments, w.ID) {
			fps = append(fps, Fingerprint{Kind: FingerprintAssignments, Key: w.ID, Digest: digest(w.Assignments)})
		}
		if want(FingerprintEntitlements, w.ID) {
			fps = append(fps, Fingerprint{Kind: FingerprintEntitlements, Key: w.ID, Digest: digest(w.Entitlements)})
		}
	}
	sortFingerprints(fps)
	return fps
}

// groupDigest is the digest of a group without its members.
func groupDigest(g *model.Group) string {
	c := *g
	c.Members = model.Members{}
	return digest(&c)
}

// touchedRef names a fingerprinted object: a live one by kind and SCIM id (a workspace by
// its id), or one the plan creates by kind and key.
type touchedRef struct {
	kind FingerprintKind
	name string
}

// touched are the objects a plan's changes read or change.
type touched struct {
	ids  map[touchedRef]bool // live objects, by id
	keys map[touchedRef]bool // objects the plan creates, by key
}

// touchedBy returns the objects the changes read or change: the object of every change,
// every member a membership change names, and for workspace changes the workspace's
// assignments or entitlements.
func touchedBy(changes []Change) *touched {
	t := &touched{ids: map[touchedRef]bool{}, keys: map[touchedRef]bool{}}
	add := func(kind FingerprintKind, key, id string) {
		if id != "" {
			t.ids[touchedRef{kind, id}] = true
		} else {
			t.keys[touchedRef{kind, key}] = true
		}
	}
	for i := range changes {
		c := &changes[i]
		add(FingerprintKind(c.Kind), c.Key, c.ID)
		for _, m := range c.Members {
			add(FingerprintKind(m.Kind), m.Key, m.ID)
		}
		switch c.Action {
		case Assign, Unassign:
			add(FingerprintAssignments, "", c.Workspace)
		case SetEntitlements:
			add(FingerprintEntitlements, "", c.Workspace)
		}
	}
	return t
}

func sortFingerprints(fps []Fingerprint) {
	sort.Slice(fps, func(i, j int) bool {
		if fps[i].Kind != fps[j].Kind {
			return fps[i].Kind < fps[j].Kind
		}
		return fps[i].Key < fps[j].Key
	})
}

// StaleError reports that the live state changed since the plan was made.
type StaleError struct {
	// Changed names the objects that differ, as kind:key with what happened.
	Changed []string
}

func (e *StaleError) Error() string {
	const show = 10
	list := e.Changed
	more := ""
	if len(list) > show {
		more = fmt.Sprintf(" and %d more", len(list)-show)
		list = list[:show]
	}
	return fmt.Sprintf("plan is stale: %d live objects changed since it was made: %v%s; make a new plan", len(e.Changed), list, more)
}

// CheckStale compares the plan's fingerprints with a fresh live state and returns a
// *StaleError naming every object that changed, appeared where the plan creates one, or
// disappeared.
func (p *Plan) CheckStale(live *model.State) error {
	now := map[string]Fingerprint{}
	for _, f := range Fingerprints(live) {
		now[string(f.Kind)+"\x00"+f.Key] = f
	}
	var changed []string
	for _, f := range p.Fingerprints {
		cur, ok := now[string(f.Kind)+"\x00"+f.Key]
		switch {
		case f.Digest == Absent && ok:
			changed = append(changed, fmt.Sprintf("%s:%s (now exists)", f.Kind, f.Key))
		case f.Digest == Absent:
		case !ok:
			changed = append(changed, fmt.Sprintf("%s:%s (gone)", f.Kind, f.Key))
		case cur.Digest != f.Digest:
			changed = append(changed, fmt.Sprintf("%s:%s (changed)", f.Kind, f.Key))
		}
	}
	if len(changed) > 0 {
		return &StaleError{Changed: changed}
	}
	return nil
}
