package plan

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
)

// Options are the inputs of Diff besides the two states and the policy.
type Options struct {
	Target      TargetID
	ToolVersion string
	Now         time.Time
	// Identity is the identity that owns the credentials, when known. It is protected.
	Identity *model.Ref
	// AuthType names the credentials' authentication, for the plan header.
	AuthType string
	// OverrideGuards lets a plan through that trips the removal guards.
	OverrideGuards bool
	// AllowAdminRemoval lets a plan through that trips the admin guard (admins.go).
	AllowAdminRemoval bool
	// IdentityUnknown says that the credentials' identity could not be found out; the
	// plan says so (Plan.IdentityUnknown).
	IdentityUnknown bool
}

// GuardError reports a plan refused by the removal guards. The plan is still returned
// alongside it so that it can be shown.
type GuardError struct {
	Removals int
	Managed  int
	Reason   string
}

func (e *GuardError) Error() string {
	return fmt.Sprintf("plan refused by the removal guard: %s", e.Reason)
}

// Hint tells the user how to proceed.
func (e *GuardError) Hint() string {
	return "check that every source was read completely; if the removals are intended, raise policy.guards in the config or pass --allow-mass-removal"
}

// Diff compares a desired state with a live one under a policy and returns the plan that
// makes live equal to desired. Both states must be normalised. Live objects must carry their
// SCIM ids.
//
// When the plan trips a removal guard, Diff returns the plan together with a *GuardError;
// such a plan must not be applied.
func Diff(desired, live *model.State, pol policy.Policy, opts Options) (*Plan, error) {
	d := compare(desired, live, pol, opts)
	d.removals()
	return d.finish()
}

// compare matches desired objects with live ones and finds every difference between
// declared objects and the live ones they match. Diff adds the removals of what nothing
// declares; Drift reports it.
func compare(desired, live *model.State, pol policy.Policy, opts Options) *differ {
	d := newDiffer(desired, live, pol, opts)
	d.matchAll()
	d.groups()
	d.principals()
	d.memberships()
	d.workspaces()
	return d
}

// memberKey identifies a member independently of how it is named: "id:<scim id>" for an
// existing object, "new:<kind>:<key>" for one this plan creates.
type memberKey string

type differ struct {
	desired, live *model.State
	lix           *model.Index
	pol           policy.Policy
	opts          Options

	// userMatch, spMatch and groupMatch map desired keys to the live object they adopt.
	userMatch  map[string]*model.User
	spMatch    map[string]*model.ServicePrincipal
	groupMatch map[string]*model.Group
	// claimed holds live objects that something desired adopts, renames or replaces, or
	// that must be left alone: they are not removal candidates.
	claimed map[model.Ref]bool
	// skipped holds desired objects that the plan does not create or change.
	skipped map[model.Ref]bool
	// created holds desired objects the plan creates.
	created map[model.Ref]bool
	// deleted holds live objects the plan deletes.
	deleted   map[model.Ref]bool
	unmanaged map[model.Ref]Exclusion // live ref → why it is not managed
	protected []model.Ref
	ignore    []ignorePattern
	changes   []Change
	federated bool // a workspace-level target whose groups include account groups
	blocked   []Blocked
	warnings  []string
	fps       []Fingerprint
}

type ignorePattern struct {
	kind    model.Kind // empty: every kind
	pattern string
}

func newDiffer(desired, live *model.State, pol policy.Policy, opts Options) *differ {
	d := &differ{
		desired:    desired,
		live:       live,
		lix:        model.NewIndex(live),
		pol:        pol,
		opts:       opts,
		userMatch:  map[string]*model.User{},
		spMatch:    map[string]*model.ServicePrincipal{},
		groupMatch: map[string]*model.Group{},
		claimed:    map[model.Ref]bool{},
		skipped:    map[model.Ref]bool{},
		created:    map[model.Ref]bool{},
		deleted:    map[model.Ref]bool{},
		unmanaged:  map[model.Ref]Exclusion{},
	}
	for _, p := range pol.Scope.Ignore {
		ip := ignorePattern{pattern: p}
		for _, k := range []model.Kind{model.KindUser, model.KindGroup, model.KindServicePrincipal} {
			if rest, ok := strings.CutPrefix(p, string(k)+":"); ok {
				ip = ignorePattern{kind: k, pattern: rest}
			}
		}
		d.ignore = append(d.ignore, ip)
	}
	d.classifyLive()
	return d
}

// Exclusion says why a live object is out of the policy's reach: the plan does not change
// it and drift reports it as excluded.
type Exclusion string

// The reasons a live object is excluded.
const (
	// ExcludedBuiltIn is a Databricks built-in group (users, admins, account users).
	ExcludedBuiltIn Exclusion = "built-in group"
	// ExcludedProtected is named by policy.protected or owns the credentials.
	ExcludedProtected Exclusion = "protected"
	// ExcludedIgnored matches policy.scope.ignore.
	ExcludedIgnored Exclusion = "ignored by policy.scope.ignore"
	// ExcludedUserNameChange is a user whose declared userName differs (same externalId)
	// while policy.allowUserReplace is off.
	ExcludedUserNameChange Exclusion = "waiting for a userName change"
	// ExcludedAccountGroup is an account group seen from an identity-federated workspace at
	// workspace level: it is managed at account level. It may be referenced (as a member
	// of a workspace group); the plan never deletes, renames or changes its members.
	ExcludedAccountGroup Exclusion = "managed at account level"
	// ExcludedAccountPrincipal is a user or service principal that nothing declares, seen
	// from an identity-federated workspace at workspace level: every principal there is an
	// account principal, which only the account can deactivate or delete. The plan leaves
	// it alone; a declared one is still created, updated and given entitlements.
	ExcludedAccountPrincipal Exclusion = "account principal, managed at account level"
)

// warnWhenDeclared reports whether declaring an object excluded for this reason deserves a
// warning: declaring a built-in group is expected (to manage its members, say), the others
// are not changed as declared.
func (e Exclusion) warnWhenDeclared() bool {
	return e != ExcludedBuiltIn && e != ExcludedAccountGroup && e != ExcludedAccountPrincipal
}

// keepsMemberships reports whether a group keeps an excluded member it does not declare.
// Protected and ignored identities keep the memberships they have; a built-in group is no
// identity to protect, and leaves a group that does not declare it.
func (e Exclusion) keepsMemberships() bool { return e != ExcludedBuiltIn }

// classifyLive finds the live objects the policy keeps out of reach: built-in groups,
// protected identities and ignored ones.
func (d *differ) classifyLive() {
	prot := map[model.Ref]bool{}
	for _, u := range d.pol.Protected.Users {
		prot[model.Ref{Kind: model.KindUser, Key: model.UserKey(u)}] = true
	}
	for _, g := range d.pol.Protected.Groups {
		prot[model.Ref{Kind: model.KindGroup, Key: model.GroupKey(g)}] = true
	}
	for _, s := range d.pol.Protected.ServicePrincipals {
		if p, ok := d.lix.ServicePrincipal(s); ok {
			prot[model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()}] = true
		}
	}
	if id := d.opts.Identity; id != nil {
		r := *id
		if r.Kind == model.KindServicePrincipal {
			if p, ok := d.lix.ServicePrincipal(r.Key); ok {
				r.Key = p.Key()
			}
		}
		prot[r] = true
	}
	for i := range d.live.Users {
		u := &d.live.Users[i]
		d.classify(model.Ref{Kind: model.KindUser, Key: u.Key()}, prot, u.UserName)
	}
	for i := range d.live.ServicePrincipals {
		p := &d.live.ServicePrincipals[i]
		d.classify(model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()}, prot, p.ApplicationID, p.DisplayName)
	}
	for i := range d.live.Groups {
		g := &d.live.Groups[i]
		r := model.Ref{Kind: model.KindGroup, Key: g.Key()}
		if model.IsReservedGroup(g.DisplayName) {
			d.unmanaged[r] = ExcludedBuiltIn
			continue
		}
		if g.AccountManaged && d.opts.Target.Level == model.LevelWorkspace {
			// An account group seen from a federated workspace: the workspace API must not
			// delete, rename or change its members (reference §2.4).
			d.unmanaged[r] = ExcludedAccountGroup
			d.federated = true
			continue
		}
		d.classify(r, prot, g.DisplayName)
	}
}

func (d *differ) classify(r model.Ref, prot map[model.Ref]bool, names ...string) {
	if prot[r] {
		d.unmanaged[r] = ExcludedProtected
		d.protected = append(d.protected, r)
		return
	}
	if d.ignored(r.Kind, names...) {
		d.unmanaged[r] = ExcludedIgnored
	}
}

func (d *differ) ignored(kind model.Kind, names ...string) bool {
	for _, ip := range d.ignore {
		if ip.kind != "" && ip.kind != kind {
			continue
		}
		pattern := ip.pattern
		if kind == model.KindUser {
			// userNames are stored lower-cased (reference §2.3), and compared so: a pattern
			// written as *@Contractors.Example.com must protect them too.
			pattern = strings.ToLower(pattern)
		}
		for _, n := range names {
			if kind == model.KindUser {
				n = model.UserKey(n)
			}
			if ok, _ := path.Match(pattern, n); ok && n != "" {
				return true
			}
		}
	}
	return false
}

// matchAll pairs every desired object with the live object it adopts, renames or replaces.
func (d *differ) matchAll() {
	byExternal := map[string]*model.User{}
	for i := range d.live.Users {
		if u := &d.live.Users[i]; u.ExternalID != "" {
			byExternal[u.ExternalID] = u
		}
	}
	declaredUsers := map[string]bool{}
	for i := range d.desired.Users {
		declaredUsers[d.desired.Users[i].Key()] = true
	}
	for i := range d.desired.Users {
		u := &d.desired.Users[i]
		r := model.Ref{Kind: model.KindUser, Key: u.Key()}
		if lu := d.lix.Users[u.Key()]; lu != nil {
			d.userMatch[u.Key()] = lu
			d.claimed[r] = true
			d.skipUnmanaged(r, r)
			continue
		}
		if lu := byExternal[u.ExternalID]; u.ExternalID != "" && lu != nil && !declaredUsers[lu.Key()] {
			old := model.Ref{Kind: model.KindUser, Key: lu.Key()}
			if why, ok := d.unmanaged[old]; ok {
				d.warnf("user %s has externalId %s like live user %s, which is %s: neither is changed", u.UserName, u.ExternalID, lu.UserName, why)
				d.skipped[r] = true
				d.claimed[old] = true
				continue
			}
			if !d.pol.AllowUserReplace {
				d.blocked = append(d.blocked, Blocked{Kind: model.KindUser, Key: lu.Key(),
					Reason: fmt.Sprintf("userName would change to %s (same externalId %s), and Databricks cannot change a userName; set policy.allowUserReplace to delete %s and create %s",
						u.UserName, u.ExternalID, lu.UserName, u.UserName)})
				d.skipped[r] = true
				d.claimed[old] = true
				d.unmanaged[old] = ExcludedUserNameChange
				continue
			}
			d.claimed[old] = true
			d.deleted[old] = true
			d.add(Change{Action: Delete, Kind: model.KindUser, Key: lu.Key(), ID: lu.ID, Before: &Object{User: lu},
				Reason: fmt.Sprintf("userName changes to %s (same externalId %s); Databricks cannot rename users and policy.allowUserReplace is set", u.UserName, u.ExternalID)})
		}
		if d.ignored(model.KindUser, u.UserName) {
			d.warnf("user %s is declared but ignored by policy.scope.ignore: not created", u.UserName)
			d.skipped[r] = true
		}
	}
	for i := range d.desired.ServicePrincipals {
		p := &d.desired.ServicePrincipals[i]
		r := model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()}
		var lp *model.ServicePrincipal
		if p.ApplicationID != "" {
			lp = d.lix.ServicePrincipals[p.Key()]
		} else {
			var ok bool
			if lp, ok = d.matchSPByName(p, r); !ok {
				continue
			}
		}
		if lp != nil {
			d.spMatch[p.Key()] = lp
			lr := model.Ref{Kind: model.KindServicePrincipal, Key: lp.Key()}
			d.claimed[lr] = true
			d.skipUnmanaged(r, lr)
			continue
		}
		if d.ignored(model.KindServicePrincipal, p.ApplicationID, p.DisplayName) {
			d.warnf("service principal %s is declared but ignored by policy.scope.ignore: not created", p.DisplayName)
			d.skipped[r] = true
		}
	}
	declaredGroups := map[string]bool{}
	for i := range d.desired.Groups {
		declaredGroups[d.desired.Groups[i].Key()] = true
	}
	for i := range d.desired.Groups {
		g := &d.desired.Groups[i]
		r := model.Ref{Kind: model.KindGroup, Key: g.Key()}
		lg := d.lix.Groups[g.Key()]
		if lg == nil {
			for _, prev := range g.Previously {
				if c := d.lix.Groups[model.GroupKey(prev)]; c != nil && !declaredGroups[c.Key()] {
					lg = c
					break
				}
			}
		}
		if lg != nil {
			d.groupMatch[g.Key()] = lg
			lr := model.Ref{Kind: model.KindGroup, Key: lg.Key()}
			d.claimed[lr] = true
			d.skipUnmanaged(r, lr)
			continue
		}
		if d.ignored(model.KindGroup, g.DisplayName) {
			d.warnf("group %s is declared but ignored by policy.scope.ignore: not created", g.DisplayName)
			d.skipped[r] = true
		}
	}
}

// skipUnmanaged marks a desired object as skipped when the live object it matches is not
// managed, and says so.
func (d *differ) skipUnmanaged(desired, live model.Ref) {
	if why, ok := d.unmanaged[live]; ok {
		d.skipped[desired] = true
		if why.warnWhenDeclared() {
			d.warnf("%s is declared but %s: not changed", live, why)
		}
	}
}

func (d *differ) warnf(format string, args ...any) {
	d.warnings = append(d.warnings, fmt.Sprintf(format, args...))
}

func (d *differ) add(c Change) { d.changes = append(d.changes, c) }

// groups plans creates, renames and attribute updates of groups.
func (d *differ) groups() {
	ws := d.opts.Target.Level == model.LevelWorkspace
	for i := range d.desired.Groups {
		g := &d.desired.Groups[i]
		r := model.Ref{Kind: model.KindGroup, Key: g.Key()}
		if d.skipped[r] {
			continue
		}
		lg := d.groupMatch[g.Key()]
		if lg == nil {
			after := *g
			after.Previously = nil
			after.Members = model.Members{}
			if !ws {
				after.Entitlements = nil
			}
			d.created[r] = true
			d.add(Change{Action: Create, Kind: model.KindGroup, Key: g.Key(), After: &Object{Group: &after},
				Reason: "declared" + originSuffix(g.Origin)})
			continue
		}
		after := *lg
		var attrs []Attribute
		var set Set
		action := Update
		if lg.DisplayName != g.DisplayName {
			attrs = scalar(attrs, "displayName", &after.DisplayName, g.DisplayName, &set.DisplayName)
			action = Rename
		}
		attrs = scalar(attrs, "externalId", &after.ExternalID, g.ExternalID, &set.ExternalID)
		attrs = list(attrs, "roles", &after.Roles, g.Roles, &set.Roles)
		if ws {
			attrs = list(attrs, "entitlements", &after.Entitlements, g.Entitlements, &set.Entitlements)
		}
		if len(attrs) == 0 {
			continue
		}
		reason := "declared attributes differ"
		if action == Rename {
			reason = fmt.Sprintf("previously named %s", lg.DisplayName)
		}
		d.add(Change{Action: action, Kind: model.KindGroup, Key: g.Key(), ID: lg.ID, Set: &set, Attributes: attrs,
			Before: &Object{Group: lg}, After: &Object{Group: &after}, Reason: reason})
	}
}

// principals plans creates and attribute updates of users and service principals.
func (d *differ) principals() {
	ws := d.opts.Target.Level == model.LevelWorkspace
	for i := range d.desired.Users {
		u := &d.desired.Users[i]
		r := model.Ref{Kind: model.KindUser, Key: u.Key()}
		if d.skipped[r] {
			continue
		}
		lu := d.userMatch[u.Key()]
		if lu == nil {
			after := *u
			after.UserName = u.Key()
			if !ws {
				after.Entitlements = nil
			}
			d.created[r] = true
			d.add(Change{Action: Create, Kind: model.KindUser, Key: u.Key(), After: &Object{User: &after},
				Reason: "declared" + originSuffix(u.Origin)})
			continue
		}
		after := *lu
		var attrs []Attribute
		var set Set
		if d.federated && ws && u.DisplayName != "" && u.DisplayName != lu.DisplayName {
			// Through the workspace API a displayName cannot be updated when identity
			// federation is on (reference §2.3): plan nothing the API refuses.
			d.blocked = append(d.blocked, Blocked{Kind: model.KindUser, Key: u.Key(),
				Reason: fmt.Sprintf("displayName would change from %q to %q, which the workspace API refuses on an identity-federated workspace; change it at account level", lu.DisplayName, u.DisplayName)})
		} else {
			attrs = scalar(attrs, "displayName", &after.DisplayName, u.DisplayName, &set.DisplayName)
		}
		attrs = scalar(attrs, "givenName", &after.GivenName, u.GivenName, &set.GivenName)
		attrs = scalar(attrs, "familyName", &after.FamilyName, u.FamilyName, &set.FamilyName)
		attrs = scalar(attrs, "externalId", &after.ExternalID, u.ExternalID, &set.ExternalID)
		attrs = active(attrs, &after.Active, u.Active, &set.Active)
		attrs = list(attrs, "roles", &after.Roles, u.Roles, &set.Roles)
		if ws {
			attrs = list(attrs, "entitlements", &after.Entitlements, u.Entitlements, &set.Entitlements)
		}
		if len(attrs) == 0 {
			continue
		}
		d.add(Change{Action: activeAction(lu.Active, after.Active), Kind: model.KindUser, Key: u.Key(), ID: lu.ID,
			Set: &set, Attributes: attrs, Before: &Object{User: lu}, After: &Object{User: &after}, Reason: updateReason(lu.Active, after.Active)})
	}
	for i := range d.desired.ServicePrincipals {
		p := &d.desired.ServicePrincipals[i]
		r := model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()}
		if d.skipped[r] {
			continue
		}
		lp := d.spMatch[p.Key()]
		if lp == nil {
			after := *p
			if !ws {
				after.Entitlements = nil
			}
			if after.ApplicationID == "" && after.ExternalID == "" {
				after.ExternalID = ManagedExternalID(after.DisplayName)
			}
			d.created[r] = true
			d.add(Change{Action: Create, Kind: model.KindServicePrincipal, Key: p.Key(), After: &Object{ServicePrincipal: &after},
				Reason: "declared" + originSuffix(p.Origin)})
			continue
		}
		after := *lp
		var attrs []Attribute
		var set Set
		attrs = scalar(attrs, "displayName", &after.DisplayName, p.DisplayName, &set.DisplayName)
		attrs = scalar(attrs, "externalId", &after.ExternalID, p.ExternalID, &set.ExternalID)
		attrs = active(attrs, &after.Active, p.Active, &set.Active)
		attrs = list(attrs, "roles", &after.Roles, p.Roles, &set.Roles)
		if ws {
			attrs = list(attrs, "entitlements", &after.Entitlements, p.Entitlements, &set.Entitlements)
		}
		if len(attrs) == 0 {
			continue
		}
		d.add(Change{Action: activeAction(lp.Active, after.Active), Kind: model.KindServicePrincipal, Key: p.Key(), ID: lp.ID,
			Set: &set, Attributes: attrs, Before: &Object{ServicePrincipal: lp}, After: &Object{ServicePrincipal: &after}, Reason: updateReason(lp.Active, after.Active)})
	}
}

// matchSPByName finds the live service principal a declared one without applicationId
// is, by displayName, which Databricks does not keep unique (reference §2.5). One
// candidate is the match. Among several, the one whose externalId is the declared one or
// the one scimsync gives the principals it creates (ManagedExternalID) is the match, and
// the others are look-alikes. Look-alikes, and every candidate when none or several are
// recognised, are never removed: each is claimed and named in a Blocked entry of the plan
// with what to do. ok is false when the declared principal cannot be matched, and it is then
// left alone too.
func (d *differ) matchSPByName(p *model.ServicePrincipal, r model.Ref) (*model.ServicePrincipal, bool) {
	var candidates []*model.ServicePrincipal
	for j := range d.live.ServicePrincipals {
		if c := &d.live.ServicePrincipals[j]; strings.TrimSpace(c.DisplayName) == p.Key() {
			candidates = append(candidates, c)
		}
	}
	if len(candidates) < 2 {
		if len(candidates) == 1 {
			return candidates[0], true
		}
		return nil, true
	}
	want := p.ExternalID
	if want == "" {
		want = ManagedExternalID(p.DisplayName)
	}
	var mine, others []*model.ServicePrincipal
	for _, c := range candidates {
		d.claimed[model.Ref{Kind: model.KindServicePrincipal, Key: c.Key()}] = true
		if c.ExternalID == want {
			mine = append(mine, c)
		} else {
			others = append(others, c)
		}
	}
	// Look-alikes are out of reach, like ignored identities: never changed, never
	// removed, never taken out of groups.
	lookAlikes := others
	if len(mine) != 1 {
		lookAlikes = candidates
	}
	for _, c := range lookAlikes {
		d.unmanaged[model.Ref{Kind: model.KindServicePrincipal, Key: c.Key()}] = "a look-alike of a declared service principal"
	}
	if len(mine) == 1 {
		d.blocked = append(d.blocked, Blocked{Kind: model.KindServicePrincipal, Key: p.DisplayName, Reason: fmt.Sprintf(
			"%s named so besides the one scimsync manages (%s); scimsync neither changes nor removes %s: "+
				"if %s, delete or rename it in Databricks; if it is the one you mean, declare its applicationId",
			others1(len(others)), describeSP(mine[0]), describeSPs(others), pronoun(len(others)))})
		return mine[0], true
	}
	d.blocked = append(d.blocked, Blocked{Kind: model.KindServicePrincipal, Key: p.DisplayName, Reason: fmt.Sprintf(
		"matches %d live service principals by displayName (%s); scimsync neither changes nor removes any of them, "+
			"nor the declared one: declare the applicationId of the one you mean, and delete or rename the others in Databricks",
		len(candidates), describeSPs(candidates))})
	d.skipped[r] = true
	return nil, false
}

// others1 counts the look-alikes of a blocked warning.
func others1(n int) string {
	if n == 1 {
		return "another live service principal is"
	}
	return fmt.Sprintf("%d other live service principals are", n)
}

// pronoun says how a blocked warning refers to the look-alikes.
func pronoun(n int) string {
	if n == 1 {
		return "it is a stray copy"
	}
	return "they are stray copies"
}

func describeSP(p *model.ServicePrincipal) string {
	ext := "no externalId"
	if p.ExternalID != "" {
		ext = "externalId " + p.ExternalID
	}
	return fmt.Sprintf("id %s, applicationId %s, %s", p.ID, p.ApplicationID, ext)
}

func describeSPs(ps []*model.ServicePrincipal) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = describeSP(p)
	}
	return strings.Join(out, "; ")
}

// ManagedExternalID is the externalId scimsync gives a service principal it creates
// without an applicationId or a declared externalId: "scimsync:" and a digest of the
// displayName, 41 characters (Databricks allows 64, reference §2.3). It tells the
// principal scimsync made from look-alikes with the same displayName, in plans and when
// a create whose outcome was unknown is looked up.
func ManagedExternalID(displayName string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(displayName)))
	return "scimsync:" + hex.EncodeToString(sum[:16])
}

func activeAction(before, after bool) Action {
	switch {
	case before && !after:
		return Deactivate
	case !before && after:
		return Reactivate
	}
	return Update
}

func updateReason(before, after bool) string {
	switch {
	case before && !after:
		return "declared inactive"
	case !before && after:
		return "declared active"
	}
	return "declared attributes differ"
}

func originSuffix(o model.Origin) string {
	if o.IsZero() {
		return ""
	}
	return " in " + o.String()
}

// scalar compares a declared string attribute with the live one and, when they differ,
// records the declared value in *set and *live and the difference in attrs. An attribute
// the source leaves empty is not managed: the live value stays.
func scalar(attrs []Attribute, name string, live *string, want string, set **string) []Attribute {
	if want == "" || *live == want {
		return attrs
	}
	attrs = append(attrs, Attribute{Name: name, Before: *live, After: want})
	*live, *set = want, &want
	return attrs
}

// active is scalar for the active attribute, which is always managed.
func active(attrs []Attribute, live *bool, want bool, set **bool) []Attribute {
	if *live == want {
		return attrs
	}
	attrs = append(attrs, Attribute{Name: "active", Before: *live, After: want})
	*live, *set = want, &want
	return attrs
}

// list is scalar for list attributes (roles, entitlements). Lists are authoritative: what
// is not declared is removed.
func list(attrs []Attribute, name string, live *[]string, want []string, set **[]string) []Attribute {
	if slices.Equal(*live, want) {
		return attrs
	}
	attrs = append(attrs, Attribute{Name: name, Before: nonNil(*live), After: nonNil(want)})
	v := nonNil(want)
	*live, *set = want, &v
	return attrs
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// resolve turns a desired reference into the member key it has in the live state, or in
// the plan when the plan creates it. ok is false when the object is neither live nor created.
func (d *differ) resolve(r model.Ref) (memberKey, Member, bool) {
	m := Member{Kind: r.Kind, Key: r.Key}
	switch r.Kind {
	case model.KindUser:
		if lu := d.userMatch[r.Key]; lu != nil {
			m.ID = lu.ID
		}
	case model.KindServicePrincipal:
		if lp := d.spMatch[r.Key]; lp != nil {
			m.ID = lp.ID
		}
	case model.KindGroup:
		if lg := d.groupMatch[r.Key]; lg != nil {
			m.ID = lg.ID
		}
	}
	if m.ID != "" {
		return memberKey("id:" + m.ID), m, true
	}
	if d.created[r] {
		return memberKey("new:" + r.String()), m, true
	}
	return "", m, false
}

// liveMember turns a live reference into its member key.
func (d *differ) liveMember(r model.Ref) (memberKey, Member, bool) {
	m := Member{Kind: r.Kind, Key: r.Key}
	switch r.Kind {
	case model.KindUser:
		if u := d.lix.Users[r.Key]; u != nil {
			m.ID = u.ID
		}
	case model.KindServicePrincipal:
		if p := d.lix.ServicePrincipals[r.Key]; p != nil {
			m.ID = p.ID
		}
	case model.KindGroup:
		if g := d.lix.Groups[r.Key]; g != nil {
			m.ID = g.ID
		}
	}
	if m.ID == "" {
		return "", m, false
	}
	return memberKey("id:" + m.ID), m, true
}

// memberships plans member additions and removals, one change of each per group.
func (d *differ) memberships() {
	for i := range d.desired.Groups {
		g := &d.desired.Groups[i]
		r := model.Ref{Kind: model.KindGroup, Key: g.Key()}
		if d.skipped[r] {
			continue
		}
		want := map[memberKey]Member{}
		for _, mr := range g.Members.Refs() {
			k, m, ok := d.resolve(mr)
			if !ok {
				d.warnf("group %s: member %s is not created (skipped by policy), so it is not added", g.DisplayName, mr)
				continue
			}
			want[k] = m
		}
		have := map[memberKey]Member{}
		id := ""
		if lg := d.groupMatch[g.Key()]; lg != nil {
			id = lg.ID
			for _, mr := range lg.Members.Refs() {
				if k, m, ok := d.liveMember(mr); ok {
					have[k] = m
				}
			}
		}
		var add, remove []Member
		for k, m := range want {
			if _, ok := have[k]; !ok {
				add = append(add, m)
			}
		}
		for k, m := range have {
			if _, ok := want[k]; ok {
				continue
			}
			if why, ok := d.unmanaged[model.Ref{Kind: m.Kind, Key: m.Key}]; ok && why.keepsMemberships() {
				continue
			}
			remove = append(remove, m)
		}
		if len(add) > 0 {
			sortMembers(add)
			d.add(Change{Action: AddMembers, Kind: model.KindGroup, Key: g.Key(), ID: id, Members: add,
				Reason: missing(len(add))})
		}
		if len(remove) > 0 {
			sortMembers(remove)
			d.add(Change{Action: RemoveMembers, Kind: model.KindGroup, Key: g.Key(), ID: id, Members: remove,
				Reason: undeclared(len(remove))})
		}
	}
}

// missing is the reason of an AddMembers change: "1 declared member is missing".
func missing(n int) string {
	if n == 1 {
		return "1 declared member is missing"
	}
	return fmt.Sprintf("%d declared members are missing", n)
}

// undeclared is the reason of a RemoveMembers change: "1 member is not declared".
func undeclared(n int) string {
	if n == 1 {
		return "1 member is not declared"
	}
	return fmt.Sprintf("%d members are not declared", n)
}

func sortMembers(ms []Member) {
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Kind != ms[j].Kind {
			return kindOrder(ms[i].Kind) < kindOrder(ms[j].Kind)
		}
		return ms[i].Key < ms[j].Key
	})
}

func kindOrder(k model.Kind) int {
	switch k {
	case model.KindGroup:
		return 0
	case model.KindServicePrincipal:
		return 1
	}
	return 2
}

// workspaces plans workspace assignments and, at account level, per-workspace entitlements
// for every workspace the desired state declares.
func (d *differ) workspaces() {
	liveWS := map[string]*model.Workspace{}
	for i := range d.live.Workspaces {
		liveWS[d.live.Workspaces[i].ID] = &d.live.Workspaces[i]
	}
	account := d.opts.Target.Level == model.LevelAccount
	for _, w := range d.desired.Workspaces {
		lw := liveWS[w.ID]
		if lw == nil {
			lw = &model.Workspace{ID: w.ID}
		}
		d.assignments(w, lw)
		if account {
			d.entitlements(w, lw)
		}
	}
}

type grant struct {
	m   Member
	val string
}

func (d *differ) assignments(w model.Workspace, lw *model.Workspace) {
	want := map[memberKey]grant{}
	for _, a := range w.Assignments {
		if d.skipped[a.Principal] {
			continue
		}
		k, m, ok := d.resolve(a.Principal)
		if !ok {
			continue
		}
		want[k] = grant{m, a.Permission}
	}
	have := map[memberKey]grant{}
	for _, a := range lw.Assignments {
		if k, m, ok := d.liveMember(a.Principal); ok {
			have[k] = grant{m, a.Permission}
		}
	}
	for _, k := range sortedKeys(want) {
		g := want[k]
		before := have[k].val
		if before == g.val {
			continue
		}
		reason := "declared in workspace " + w.ID
		var attrs []Attribute
		if before != "" {
			attrs = []Attribute{{Name: "permission", Before: before, After: g.val}}
			reason = "declared permission differs"
		}
		d.add(Change{Action: Assign, Kind: g.m.Kind, Key: g.m.Key, ID: g.m.ID, Workspace: w.ID,
			Permission: &PermissionChange{From: before, To: g.val}, Attributes: attrs, Reason: reason})
	}
	for _, k := range sortedKeys(have) {
		g := have[k]
		if _, ok := want[k]; ok {
			continue
		}
		ref := model.Ref{Kind: g.m.Kind, Key: g.m.Key}
		if _, ok := d.unmanaged[ref]; ok || d.deleted[ref] {
			continue
		}
		d.add(Change{Action: Unassign, Kind: g.m.Kind, Key: g.m.Key, ID: g.m.ID, Workspace: w.ID,
			Permission: &PermissionChange{From: g.val},
			Attributes: []Attribute{{Name: "permission", Before: g.val, After: ""}},
			Reason:     "not declared in workspace " + w.ID})
	}
}

func (d *differ) entitlements(w model.Workspace, lw *model.Workspace) {
	type ents struct {
		m    Member
		list []string
	}
	want := map[memberKey]ents{}
	for _, pe := range w.Entitlements {
		if d.skipped[pe.Principal] {
			continue
		}
		if k, m, ok := d.resolve(pe.Principal); ok {
			want[k] = ents{m, pe.Entitlements}
		}
	}
	have := map[memberKey]ents{}
	for _, pe := range lw.Entitlements {
		if k, m, ok := d.liveMember(pe.Principal); ok {
			have[k] = ents{m, pe.Entitlements}
		}
	}
	seen := map[memberKey]bool{}
	for _, k := range append(sortedKeys(want), sortedKeys(have)...) {
		if seen[k] {
			continue
		}
		seen[k] = true
		w2, h := want[k], have[k]
		m := w2.m
		if m.Key == "" {
			m = h.m
			ref := model.Ref{Kind: m.Kind, Key: m.Key}
			if _, ok := d.unmanaged[ref]; ok || d.deleted[ref] {
				continue
			}
		}
		if slices.Equal(w2.list, h.list) {
			continue
		}
		grant, revoke := setDiff(h.list, w2.list)
		d.add(Change{Action: SetEntitlements, Kind: m.Kind, Key: m.Key, ID: m.ID, Workspace: w.ID,
			Entitlements: &EntitlementChange{Grant: grant, Revoke: revoke},
			Attributes:   []Attribute{{Name: "entitlements", Before: nonNil(h.list), After: nonNil(w2.list)}},
			Reason:       "declared entitlements in workspace " + w.ID + " differ"})
	}
}

func sortedKeys[V any](m map[memberKey]V) []memberKey {
	keys := make([]memberKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// removals applies the removal policy to managed live objects that nothing declares.
func (d *differ) removals() {
	for i := range d.live.Users {
		u := &d.live.Users[i]
		after := *u
		after.Active = false
		d.removePrincipal(model.Ref{Kind: model.KindUser, Key: u.Key()}, u.ID, u.Active, d.pol.Removal.Users, "users",
			&Object{User: u}, &Object{User: &after})
	}
	for i := range d.live.ServicePrincipals {
		p := &d.live.ServicePrincipals[i]
		after := *p
		after.Active = false
		d.removePrincipal(model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()}, p.ID, p.Active, d.pol.Removal.ServicePrincipals, "servicePrincipals",
			&Object{ServicePrincipal: p}, &Object{ServicePrincipal: &after})
	}
	for i := range d.live.Groups {
		g := &d.live.Groups[i]
		r := model.Ref{Kind: model.KindGroup, Key: g.Key()}
		if d.claimed[r] || d.isUnmanaged(r) || d.pol.Removal.Groups != policy.RemovalDelete {
			continue
		}
		d.deleted[r] = true
		d.add(Change{Action: Delete, Kind: model.KindGroup, Key: r.Key, ID: g.ID, Before: &Object{Group: g},
			Reason: "not declared; policy.removal.groups is delete"})
	}
	// A member that is deleted leaves its groups by itself; dropping those removals keeps
	// the plan free of requests that would fail on a missing member.
	for i := range d.changes {
		c := &d.changes[i]
		if c.Action != RemoveMembers {
			continue
		}
		kept := c.Members[:0]
		for _, m := range c.Members {
			if !d.deleted[model.Ref{Kind: m.Kind, Key: m.Key}] {
				kept = append(kept, m)
			}
		}
		c.Members = kept
	}
	d.changes = slices.DeleteFunc(d.changes, func(c Change) bool {
		return c.Action == RemoveMembers && len(c.Members) == 0
	})
}

// removePrincipal applies the removal mode to a live user or service principal that nothing
// declares. before is the live object and deactivated the same with active=false.
func (d *differ) removePrincipal(r model.Ref, id string, active bool, mode policy.Removal, setting string, before, deactivated *Object) {
	if d.claimed[r] || d.isUnmanaged(r) {
		return
	}
	if d.federated {
		d.unmanaged[r] = ExcludedAccountPrincipal
		return
	}
	reason := fmt.Sprintf("not declared; policy.removal.%s is %s", setting, mode)
	switch mode {
	case policy.RemovalDelete:
		d.deleted[r] = true
		d.add(Change{Action: Delete, Kind: r.Kind, Key: r.Key, ID: id, Before: before, Reason: reason})
	case policy.RemovalDeactivate:
		if active {
			inactive := false
			d.add(Change{Action: Deactivate, Kind: r.Kind, Key: r.Key, ID: id, Set: &Set{Active: &inactive},
				Attributes: []Attribute{{Name: "active", Before: true, After: false}},
				Before:     before, After: deactivated, Reason: reason})
		}
	}
}

func (d *differ) isUnmanaged(r model.Ref) bool {
	_, ok := d.unmanaged[r]
	return ok
}

func (d *differ) finish() (*Plan, error) {
	// Order the changes by phase, then kind, key and workspace; the phase of each change
	// is looked up once.
	type ordered struct {
		phase Phase
		c     *Change
	}
	order := make([]ordered, len(d.changes))
	for i := range d.changes {
		order[i] = ordered{PhaseOf(&d.changes[i]), &d.changes[i]}
	}
	slices.SortStableFunc(order, func(x, y ordered) int {
		a, b := x.c, y.c
		switch {
		case x.phase != y.phase:
			return cmp.Compare(x.phase, y.phase)
		case a.Kind != b.Kind:
			return cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind))
		case a.Key != b.Key:
			return strings.Compare(a.Key, b.Key)
		}
		return strings.Compare(a.Workspace, b.Workspace)
	})
	sorted := make([]Change, len(order))
	for i, o := range order {
		sorted[i] = *o.c
	}
	d.changes = sorted
	d.nameServicePrincipals()
	managed := 0
	for _, n := range []int{len(d.live.Users), len(d.live.ServicePrincipals), len(d.live.Groups)} {
		managed += n
	}
	managed -= len(d.unmanaged)
	fps := fingerprintsOf(d.live, touchedBy(d.changes))
	for r := range d.created {
		fps = append(fps, Fingerprint{Kind: FingerprintKind(r.Kind), Key: r.Key, Digest: Absent})
	}
	sortFingerprints(fps)
	sort.Slice(d.protected, func(i, j int) bool { return d.protected[i].String() < d.protected[j].String() })
	var wss []model.Workspace
	for _, w := range d.desired.Workspaces {
		wss = append(wss, model.Workspace{ID: w.ID, Host: w.Host})
	}
	p := &Plan{
		FormatVersion:      FormatVersion,
		ToolVersion:        d.opts.ToolVersion,
		CreatedAt:          d.opts.Now.UTC(),
		Target:             d.opts.Target,
		AuthType:           d.opts.AuthType,
		DesiredDigest:      DesiredDigest(d.desired),
		Policy:             d.pol,
		GuardOverride:      d.opts.OverrideGuards,
		Protected:          d.protected,
		Workspaces:         wss,
		Fingerprints:       fps,
		Changes:            d.changes,
		Blocked:            d.blocked,
		IdentityUnknown:    d.opts.IdentityUnknown,
		AdminGuardOverride: d.opts.AllowAdminRemoval,
		Warnings:           d.warnings,
		Summary:            Summary{Managed: managed},
	}
	if p.Changes == nil {
		p.Changes = []Change{}
	}
	p.summarize()
	p.Risks = risks(d.desired, p.Changes, p.Protected, p.Blocked)
	if err := d.guard(p); err != nil && !d.opts.OverrideGuards {
		return p, err
	}
	if err := d.adminGuard(p); err != nil && !d.opts.AllowAdminRemoval {
		return p, err
	}
	return p, nil
}

// nameServicePrincipals gives each change about a service principal keyed by
// applicationId the principal's displayName, declared or live.
func (d *differ) nameServicePrincipals() {
	names := map[string]string{}
	for _, s := range []*model.State{d.live, d.desired} {
		for _, p := range s.ServicePrincipals {
			if p.ApplicationID != "" && p.DisplayName != "" {
				names[p.Key()] = p.DisplayName
			}
		}
	}
	for i := range d.changes {
		c := &d.changes[i]
		if c.Kind == model.KindServicePrincipal && names[c.Key] != "" && names[c.Key] != c.Key {
			c.Name = names[c.Key]
		}
	}
}

// guard refuses plans that remove more than the policy allows, and any removal at all when
// the desired state is empty.
func (d *differ) guard(p *Plan) error {
	n, managed := p.Summary.Removals, p.Summary.Managed
	if n == 0 {
		return nil
	}
	g := d.pol.Guards
	switch {
	case d.desired.Empty():
		return &GuardError{Removals: n, Managed: managed,
			Reason: fmt.Sprintf("the desired state is empty, and the plan would remove %d identities", n)}
	case g.MaxRemovals > 0 && n > g.MaxRemovals:
		return &GuardError{Removals: n, Managed: managed,
			Reason: fmt.Sprintf("the plan deactivates or deletes %d identities, more than policy.guards.maxRemovals (%d)", n, g.MaxRemovals)}
	case g.MaxRemovalPercent > 0 && managed > 0 && float64(n)*100/float64(managed) > g.MaxRemovalPercent:
		return &GuardError{Removals: n, Managed: managed,
			Reason: fmt.Sprintf("the plan deactivates or deletes %d of %d managed identities (%.1f%%), more than policy.guards.maxRemovalPercent (%g%%)",
				n, managed, float64(n)*100/float64(managed), g.MaxRemovalPercent)}
	}
	return nil
}
