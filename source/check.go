package source

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/manifest"
	"github.com/scimsync/scimsync/source/mapping"
	"github.com/scimsync/scimsync/source/merge"
	"github.com/scimsync/scimsync/source/read"
)

// The rule identifiers of the diagnostics Load and Check report. They are stable: tests,
// tools and examples/invalid/<rule> match on them.
const (
	RuleNoSources         = "no-sources"          // neither a config with sources nor paths
	RuleUnknownSourceKind = "unknown-source-kind" // a source kind this build cannot read
	RuleEmptySource       = "empty-source"        // a source yields no users
	RuleInvalidSetting    = "invalid-setting"     // a source setting that cannot be used (exclude, scope.groups)
	RulePlaceholder       = read.RulePlaceholder  // a value that still holds a {{ … }} or ${…} template placeholder

	RuleDuplicateUserName         = merge.RuleDuplicateUserName         // two users with one userName, case-insensitively
	RuleDuplicateGroup            = merge.RuleDuplicateGroup            // two groups with one displayName
	RuleDuplicateApplicationID    = merge.RuleDuplicateApplicationID    // two service principals with one applicationId
	RuleDuplicateServicePrincipal = merge.RuleDuplicateServicePrincipal // two service principals without applicationId, with one displayName
	RuleDuplicateWorkspace        = merge.RuleDuplicateWorkspace        // one workspace id declared twice, differently
	RuleDuplicateAssignment       = merge.RuleDuplicateAssignment       // one principal assigned twice to a workspace
	RuleDuplicateEntitlements     = merge.RuleDuplicateEntitlements     // one principal's entitlements in a workspace declared twice

	RuleUnknownReference   = manifest.RuleUnknownReference // a member or principal that is not declared
	RuleAmbiguousReference = "ambiguous-reference"         // a service principal displayName that several principals have
	RuleMembershipCycle    = "membership-cycle"            // groups that contain themselves
	RuleNestingTooDeep     = "nesting-too-deep"            // more than model.MaxNestingDepth levels of groups
	RuleRenameConflict     = "rename-conflict"             // a previously: name that another group has or had

	RuleUnknownEntitlement = "unknown-entitlement"  // an entitlement Databricks does not know
	RuleWrongLevel         = "wrong-level"          // entitlements or assignments declared where the target level does not have them
	RuleGroupOnly          = "group-only"           // allow-instance-pool-create on a user or service principal
	RuleConsumeConflict    = "consume-conflict"     // workspace-consume with workspace-access or databricks-sql-access
	RuleInvalidPermission  = "invalid-permission"   // a workspace permission other than USER or ADMIN
	RuleInvalidWorkspaceID = "invalid-workspace-id" // a workspace id that is not a number
	RuleNotAssigned        = "not-assigned"         // entitlements in a workspace for a principal not assigned to it
	RuleNoWorkspaceHost    = "no-workspace-host"    // an account-level workspace without host:

	RuleTooManyPrincipals  = "too-many-principals"  // more than model.MaxPrincipals users and service principals
	RuleTooManyGroups      = "too-many-groups"      // more than model.MaxGroups groups
	RuleTooManyMemberships = "too-many-memberships" // a principal directly in more than model.MaxDirectMemberships groups

	RuleReservedGroup        = "reserved-group"         // admins, users or account users
	RuleInvalidEmail         = "invalid-email"          // a userName that is not an email address
	RuleInvalidApplicationID = "invalid-application-id" // an applicationId that is not a UUID
	RuleMissingName          = "missing-name"           // a group without displayName, a service principal without either name
	RuleExternalIDTooLong    = "external-id-too-long"   // an externalId over 64 characters
	RuleGroupNameTooLong     = "group-name-too-long"    // a group displayName over 255 characters
)

// Limits on attribute lengths, from the Databricks SCIM API.
const (
	MaxExternalID       = 64
	MaxGroupDisplayName = 255
)

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Check validates a state beyond what a schema can: duplicates, references, membership
// cycles and nesting depth, entitlements and where they may be declared for the target
// level, Databricks' limits, reserved names and attribute formats. It reports every
// problem, sorted by place, each under one of the Rule identifiers above. It runs in time
// linear in the size of the state.
func Check(s *model.State, level model.Level) diag.List {
	return CheckWithLimits(s, level, model.MaxPrincipals, model.MaxGroups)
}

// CheckWithLimits is Check for an account whose identity limits are maxPrincipals users
// plus service principals and maxGroups groups (policy.limits; Databricks' defaults can be
// raised, reference §6).
func CheckWithLimits(s *model.State, level model.Level, maxPrincipals, maxGroups int) diag.List {
	c := &checker{s: s, level: level, ix: model.NewIndex(s), spNames: make(map[string]int), maxPrincipals: maxPrincipals, maxGroups: maxGroups}
	for i := range s.ServicePrincipals {
		c.spNames[strings.TrimSpace(s.ServicePrincipals[i].DisplayName)]++
	}
	c.users()
	c.names()
	c.servicePrincipals()
	c.groups()
	c.memberships()
	c.nesting()
	c.workspaces()
	c.limits()
	c.diags.Sort()
	return c.diags
}

type checker struct {
	s       *model.State
	level   model.Level
	ix      *model.Index
	spNames map[string]int // service principal displayName → how many have it
	diags   diag.List

	maxPrincipals, maxGroups int // the account's identity limits
}

// userNames returns the declared userNames, for "did you mean" hints.
func (c *checker) userNames() []string {
	names := make([]string, 0, len(c.s.Users))
	for _, u := range c.s.Users {
		names = append(names, u.UserName)
	}
	return names
}

// groupNames returns the declared group names, for "did you mean" hints.
func (c *checker) groupNames() []string {
	names := make([]string, 0, len(c.s.Groups))
	for _, g := range c.s.Groups {
		names = append(names, g.DisplayName)
	}
	return names
}

// spRefs returns the displayNames and applicationIds of the declared service principals,
// for "did you mean" hints.
func (c *checker) spRefs() []string {
	var refs []string
	for _, p := range c.s.ServicePrincipals {
		refs = append(refs, p.DisplayName)
		if p.ApplicationID != "" {
			refs = append(refs, p.ApplicationID)
		}
	}
	return refs
}

func (c *checker) errorf(at model.Origin, rule, format string, args ...any) {
	c.diags.Errorf(at, rule, format, args...)
}

// duplicate reports a second object with the key of a first one.
func (c *checker) duplicate(at, first model.Origin, rule, format string, args ...any) {
	rel := first
	c.diags = append(c.diags, diag.Diagnostic{
		Severity: diag.SevError, Origin: at, Rule: rule, Message: fmt.Sprintf(format, args...), Related: &rel,
	})
}

func (c *checker) users() {
	first := make(map[string]*model.User, len(c.s.Users))
	for i := range c.s.Users {
		u := &c.s.Users[i]
		if f, dup := first[u.Key()]; dup {
			c.duplicate(u.Origin, f.Origin, RuleDuplicateUserName, "userName %q is declared twice (userNames are compared case-insensitively)", u.UserName)
		} else {
			first[u.Key()] = u
		}
		c.placeholders(u.Origin, fmt.Sprintf("user %q", u.UserName), u.UserName, u.DisplayName, u.GivenName, u.FamilyName, u.ExternalID)
		if !validEmail(u.UserName) && !strings.ContainsFunc(u.UserName, model.IsInvisible) {
			c.errorf(u.Origin, RuleInvalidEmail, "userName %q is not an email address", u.UserName)
		}
		if len(u.ExternalID) > MaxExternalID || len(u.Entitlements) > 0 {
			who := fmt.Sprintf("user %q", u.UserName)
			c.externalID(u.Origin, who, u.ExternalID)
			c.principalEntitlements(u.Origin, who, model.KindUser, u.Entitlements)
		}
	}
}

func (c *checker) servicePrincipals() {
	first := make(map[string]*model.ServicePrincipal, len(c.s.ServicePrincipals))
	for i := range c.s.ServicePrincipals {
		p := &c.s.ServicePrincipals[i]
		who := fmt.Sprintf("service principal %q", cmp.Or(p.DisplayName, p.ApplicationID))
		if p.Key() == "" {
			c.errorf(p.Origin, RuleMissingName, "a service principal needs a displayName or an applicationId")
			continue
		}
		if f, dup := first[p.Key()]; dup {
			if p.ApplicationID != "" {
				c.duplicate(p.Origin, f.Origin, RuleDuplicateApplicationID, "applicationId %s is declared twice", p.ApplicationID)
			} else {
				c.duplicate(p.Origin, f.Origin, RuleDuplicateServicePrincipal,
					"service principal %q is declared twice; give them applicationIds or different displayNames", p.DisplayName)
			}
		} else {
			first[p.Key()] = p
		}
		c.placeholders(p.Origin, who, p.DisplayName, p.ApplicationID, p.ExternalID)
		if p.ApplicationID != "" && !uuidPattern.MatchString(p.ApplicationID) {
			c.errorf(p.Origin, RuleInvalidApplicationID, "%s: applicationId %q is not a UUID", who, p.ApplicationID)
		}
		c.externalID(p.Origin, who, p.ExternalID)
		c.principalEntitlements(p.Origin, who, model.KindServicePrincipal, p.Entitlements)
	}
}

func (c *checker) groups() {
	first := make(map[string]*model.Group, len(c.s.Groups))
	renamedFrom := make(map[string]*model.Group)
	for i := range c.s.Groups {
		g := &c.s.Groups[i]
		who := fmt.Sprintf("group %q", g.DisplayName)
		if g.Key() == "" {
			c.errorf(g.Origin, RuleMissingName, "a group needs a displayName")
			continue
		}
		if f, dup := first[g.Key()]; dup {
			c.duplicate(g.Origin, f.Origin, RuleDuplicateGroup, "group %q is declared twice", g.DisplayName)
		} else {
			first[g.Key()] = g
		}
		c.placeholders(g.Origin, who, g.DisplayName, g.ExternalID)
		c.placeholders(g.Origin, who, g.Members.Users...)
		if model.IsReservedGroup(g.DisplayName) {
			c.errorf(g.Origin, RuleReservedGroup, "%s is a built-in Databricks group and cannot be declared", who)
		}
		if n := utf8.RuneCountInString(g.DisplayName); n > MaxGroupDisplayName {
			c.errorf(g.Origin, RuleGroupNameTooLong, "group displayName is %d characters long; Databricks allows at most %d", n, MaxGroupDisplayName)
		}
		c.externalID(g.Origin, who, g.ExternalID)
		c.entitlementNames(g.Origin, who, g.Entitlements)
		c.consume(g.Origin, who, g.Entitlements)
		if len(g.Entitlements) > 0 && c.level == model.LevelAccount {
			c.errorf(g.Origin, RuleWrongLevel, "%s has entitlements, but at account level entitlements are kept per workspace: declare them under workspaces[].entitlements", who)
		}
		for _, old := range g.Previously {
			if other := c.ix.Groups[old]; other != nil && other != g {
				c.errorf(g.Origin, RuleRenameConflict, "%s was previously %q, but a group of that name is declared too", who, old)
			}
			if other, dup := renamedFrom[old]; dup && other != g {
				c.duplicate(g.Origin, other.Origin, RuleRenameConflict, "groups %q and %q were both previously %q", other.DisplayName, g.DisplayName, old)
			} else {
				renamedFrom[old] = g
			}
		}
	}
}

// placeholders reports values that still hold an unrendered template placeholder.
func (c *checker) placeholders(at model.Origin, who string, values ...string) {
	for _, v := range values {
		if p, ok := read.Placeholder(v); ok {
			c.errorf(at, RulePlaceholder, "%s: %q holds the unrendered placeholder %s: %s", who, v, p, read.PlaceholderHint)
		}
	}
}

// externalID checks the length of an externalId.
func (c *checker) externalID(at model.Origin, who, id string) {
	if n := utf8.RuneCountInString(id); n > MaxExternalID {
		c.errorf(at, RuleExternalIDTooLong, "externalId of %s is %d characters long; Databricks allows at most %d", who, n, MaxExternalID)
	}
}

// principalEntitlements checks the entitlements a user or service principal has itself.
func (c *checker) principalEntitlements(at model.Origin, who string, kind model.Kind, ents []string) {
	if len(ents) == 0 {
		return
	}
	c.entitlementNames(at, who, ents)
	c.groupOnly(at, who, kind, ents)
	c.consume(at, who, ents)
	if c.level == model.LevelAccount {
		c.errorf(at, RuleWrongLevel, "%s has entitlements, but at account level entitlements are kept per workspace: declare them under workspaces[].entitlements", who)
	}
}

func (c *checker) entitlementNames(at model.Origin, who string, ents []string) {
	for _, e := range ents {
		if !model.IsEntitlement(e) {
			c.errorf(at, RuleUnknownEntitlement, "%s: unknown entitlement %q (known: %s)", who, e, strings.Join(model.Entitlements, ", "))
		}
	}
}

func (c *checker) groupOnly(at model.Origin, who string, kind model.Kind, ents []string) {
	if kind != model.KindGroup && slices.Contains(ents, model.EntAllowInstancePoolCreate) {
		c.errorf(at, RuleGroupOnly, "%s: %s can only be granted to groups", who, model.EntAllowInstancePoolCreate)
	}
}

func (c *checker) consume(at model.Origin, who string, ents []string) {
	if slices.Contains(ents, model.EntWorkspaceConsume) &&
		(slices.Contains(ents, model.EntWorkspaceAccess) || slices.Contains(ents, model.EntDatabricksSQLAccess)) {
		c.errorf(at, RuleConsumeConflict, "%s: %s cannot be combined with %s or %s", who,
			model.EntWorkspaceConsume, model.EntWorkspaceAccess, model.EntDatabricksSQLAccess)
	}
}

// servicePrincipal finds the principal a reference names, and reports a reference that
// names none or several.
func (c *checker) servicePrincipal(at model.Origin, where, ref string) *model.ServicePrincipal {
	if p, ok := c.ix.ServicePrincipal(ref); ok {
		return p
	}
	if c.spNames[ref] > 1 {
		c.errorf(at, RuleAmbiguousReference, "%s: %d service principals are named %q; refer to one by applicationId", where, c.spNames[ref], ref)
	} else {
		c.errorf(at, RuleUnknownReference, "%s: unknown service principal %q%s", where, ref, diag.DidYouMean(ref, c.spRefs()))
	}
	return nil
}

// memberships checks member references and counts the direct memberships of each member.
func (c *checker) memberships() {
	users := make(map[string]int, len(c.s.Users))
	sps := make(map[string]int, len(c.s.ServicePrincipals))
	groups := make(map[string]int, len(c.s.Groups))
	for i := range c.s.Groups {
		g := &c.s.Groups[i]
		for _, m := range g.Members.Users {
			if c.ix.Users[m] == nil {
				c.errorf(g.Origin, RuleUnknownReference, "group %q: unknown member user %q%s", g.DisplayName, m, diag.DidYouMean(m, c.userNames()))
				continue
			}
			users[m]++
		}
		for _, m := range g.Members.ServicePrincipals {
			if p := c.servicePrincipal(g.Origin, fmt.Sprintf("group %q", g.DisplayName), m); p != nil {
				sps[p.Key()]++
			}
		}
		for _, m := range g.Members.Groups {
			if c.ix.Groups[m] == nil {
				hint := diag.DidYouMean(m, c.groupNames())
				if model.IsReservedGroup(m) {
					hint = " (built-in groups cannot be managed)"
				}
				c.errorf(g.Origin, RuleUnknownReference, "group %q: unknown member group %q%s", g.DisplayName, m, hint)
				continue
			}
			groups[m]++
		}
	}
	over := func(at model.Origin, who string, n int) {
		c.errorf(at, RuleTooManyMemberships, "%s is a direct member of %s groups; Databricks allows at most %s",
			who, thousands(n), thousands(model.MaxDirectMemberships))
	}
	for i := range c.s.Users {
		u := &c.s.Users[i]
		if n := users[u.Key()]; n > model.MaxDirectMemberships {
			over(u.Origin, fmt.Sprintf("user %q", u.UserName), n)
		}
	}
	for i := range c.s.ServicePrincipals {
		p := &c.s.ServicePrincipals[i]
		if n := sps[p.Key()]; n > model.MaxDirectMemberships {
			over(p.Origin, fmt.Sprintf("service principal %q", p.Key()), n)
		}
	}
	for i := range c.s.Groups {
		g := &c.s.Groups[i]
		if n := groups[g.Key()]; n > model.MaxDirectMemberships {
			over(g.Origin, fmt.Sprintf("group %q", g.DisplayName), n)
		}
	}
}

// nesting finds membership cycles and groups nested deeper than model.MaxNestingDepth, in
// one depth-first walk of the group graph.
func (c *checker) nesting() {
	const (
		unseen = iota
		open
		done
	)
	state := make(map[*model.Group]int, len(c.s.Groups))
	height := make(map[*model.Group]int, len(c.s.Groups)) // groups on the longest chain down, itself included
	tallest := make(map[*model.Group]*model.Group)        // the member group on that chain
	var stack []*model.Group
	cycles := make(map[string]bool)
	var visit func(g *model.Group)
	visit = func(g *model.Group) {
		state[g] = open
		stack = append(stack, g)
		height[g] = 1
		for _, k := range g.Members.Groups {
			m := c.ix.Groups[k]
			switch {
			case m == nil:
				continue
			case state[m] == open:
				c.cycle(stack, m, cycles)
				continue
			case state[m] == unseen:
				visit(m)
			}
			if h := height[m] + 1; h > height[g] {
				height[g], tallest[g] = h, m
			}
		}
		stack = stack[:len(stack)-1]
		state[g] = done
	}
	for i := range c.s.Groups {
		if g := &c.s.Groups[i]; state[g] == unseen && c.ix.Groups[g.Key()] == g {
			visit(g)
		}
	}
	// Report deep nesting once per chain, at the outermost group: one that is not a member
	// of another group that is too deep itself.
	inDeep := make(map[*model.Group]bool)
	for i := range c.s.Groups {
		g := &c.s.Groups[i]
		if height[g] > model.MaxNestingDepth {
			for _, k := range g.Members.Groups {
				if m := c.ix.Groups[k]; m != nil {
					inDeep[m] = true
				}
			}
		}
	}
	for i := range c.s.Groups {
		g := &c.s.Groups[i]
		if height[g] <= model.MaxNestingDepth || inDeep[g] {
			continue
		}
		var chain []string
		for n := g; n != nil; n = tallest[n] {
			chain = append(chain, n.DisplayName)
		}
		c.errorf(g.Origin, RuleNestingTooDeep, "groups are nested %d levels deep, Databricks allows %d: %s",
			height[g], model.MaxNestingDepth, strings.Join(chain, " > "))
	}
}

// cycle reports the membership cycle that closes when the group at the top of stack
// contains to, once per cycle whichever group it is found from.
func (c *checker) cycle(stack []*model.Group, to *model.Group, seen map[string]bool) {
	i := slices.Index(stack, to)
	loop := stack[i:]
	// Rotate the cycle to start at its smallest name, so that it reads the same however
	// it was found.
	start := 0
	for j, g := range loop {
		if g.Key() < loop[start].Key() {
			start = j
		}
	}
	names := make([]string, 0, len(loop)+1)
	for j := range loop {
		names = append(names, loop[(start+j)%len(loop)].DisplayName)
	}
	names = append(names, names[0])
	key := strings.Join(names, "\x00")
	if seen[key] {
		return
	}
	seen[key] = true
	c.errorf(loop[start].Origin, RuleMembershipCycle, "membership cycle: %s (a source with cycles: break drops the membership that closes it)", strings.Join(names, " > "))
}

func (c *checker) workspaces() {
	first := make(map[string]*model.Workspace, len(c.s.Workspaces))
	for i := range c.s.Workspaces {
		w := &c.s.Workspaces[i]
		where := fmt.Sprintf("workspace %s", w.ID)
		if _, err := strconv.ParseUint(w.ID, 10, 64); err != nil {
			c.errorf(w.Origin, RuleInvalidWorkspaceID, "workspace id %q is not a number", w.ID)
		}
		if f, dup := first[w.ID]; dup {
			c.duplicate(w.Origin, f.Origin, RuleDuplicateWorkspace, "workspace %s is declared twice", w.ID)
		} else {
			first[w.ID] = w
		}
		if len(w.Assignments) > 0 && c.level == model.LevelWorkspace {
			c.errorf(w.Origin, RuleWrongLevel, "%s has assignments, but the target is a workspace: workspace assignments are made at account level", where)
		}
		assigned := make(map[model.Ref]*model.Assignment, len(w.Assignments))
		for j := range w.Assignments {
			a := &w.Assignments[j]
			if a.Permission != model.PermissionUser && a.Permission != model.PermissionAdmin {
				c.errorf(a.Origin, RuleInvalidPermission, "%s: permission %q of %s is neither %s nor %s",
					where, a.Permission, merge.Describe(a.Principal), model.PermissionUser, model.PermissionAdmin)
			}
			ref, ok := c.principal(a.Origin, where, a.Principal)
			if !ok {
				continue
			}
			if f, dup := assigned[ref]; dup {
				c.duplicate(a.Origin, f.Origin, RuleDuplicateAssignment, "%s: %s is assigned twice", where, merge.Describe(ref))
			} else {
				assigned[ref] = a
			}
		}
		if len(w.Entitlements) > 0 && c.level == model.LevelWorkspace {
			c.errorf(w.Origin, RuleWrongLevel, "%s has entitlements, but the target is a workspace: declare entitlements on the users, service principals and groups themselves", where)
		}
		entitled := make(map[model.Ref]*model.PrincipalEntitlements, len(w.Entitlements))
		for j := range w.Entitlements {
			e := &w.Entitlements[j]
			who := fmt.Sprintf("%s in %s", merge.Describe(e.Principal), where)
			c.entitlementNames(e.Origin, who, e.Entitlements)
			c.groupOnly(e.Origin, who, e.Principal.Kind, e.Entitlements)
			c.consume(e.Origin, who, e.Entitlements)
			ref, ok := c.principal(e.Origin, where, e.Principal)
			if !ok {
				continue
			}
			if f, dup := entitled[ref]; dup {
				c.duplicate(e.Origin, f.Origin, RuleDuplicateEntitlements, "%s: the entitlements of %s are declared twice", where, merge.Describe(ref))
			} else {
				entitled[ref] = e
			}
		}
		if len(entitled) > 0 && c.level == model.LevelAccount {
			c.unassigned(where, assigned, entitled)
		}
	}
}

// unassigned reports entitlements for principals that are not in the workspace: a
// workspace holds entitlements only for principals assigned to it, directly or through a
// group they are (perhaps indirectly) a member of.
func (c *checker) unassigned(where string, assigned map[model.Ref]*model.Assignment, entitled map[model.Ref]*model.PrincipalEntitlements) {
	in := make(map[model.Ref]bool, len(assigned))
	var queue []*model.Group
	for r := range assigned {
		in[r] = true
		if g := c.ix.Groups[r.Key]; r.Kind == model.KindGroup && g != nil {
			queue = append(queue, g)
		}
	}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		for _, m := range g.Members.Refs() {
			if m.Kind == model.KindServicePrincipal {
				if p, ok := c.ix.ServicePrincipal(m.Key); ok {
					m.Key = p.Key()
				}
			}
			if in[m] {
				continue
			}
			in[m] = true
			if sub := c.ix.Groups[m.Key]; m.Kind == model.KindGroup && sub != nil {
				queue = append(queue, sub)
			}
		}
	}
	for r, e := range entitled {
		if !in[r] {
			c.errorf(e.Origin, RuleNotAssigned, "%s: %s has entitlements there but is not assigned to it, directly or through a group; assign it, or drop the entitlements", where, merge.Describe(r))
		}
	}
}

// principal checks that a workspace entry names a declared principal and returns its
// reference by key.
func (c *checker) principal(at model.Origin, where string, r model.Ref) (model.Ref, bool) {
	switch r.Kind {
	case model.KindServicePrincipal:
		if p := c.servicePrincipal(at, where, r.Key); p != nil {
			return model.Ref{Kind: r.Kind, Key: p.Key()}, true
		}
		return r, false
	case model.KindUser, model.KindGroup:
		if c.ix.Has(r) {
			return r, true
		}
		c.errorf(at, RuleUnknownReference, "%s: unknown %s %q", where, r.Kind, r.Key)
		return r, false
	}
	c.errorf(at, RuleUnknownReference, "%s: a principal of unknown kind %q", where, r.Kind)
	return r, false
}

func (c *checker) limits() {
	if n := c.s.Principals(); n > c.maxPrincipals {
		c.errorf(model.Origin{}, RuleTooManyPrincipals, "%s users and service principals are declared; the account allows at most %s%s",
			thousands(n), thousands(c.maxPrincipals), raise("principals", c.maxPrincipals, model.MaxPrincipals))
	}
	if n := len(c.s.Groups); n > c.maxGroups {
		c.errorf(model.Origin{}, RuleTooManyGroups, "%s groups are declared; the account allows at most %s%s",
			thousands(n), thousands(c.maxGroups), raise("groups", c.maxGroups, model.MaxGroups))
	}
}

// raise says how to go past Databricks' default limit.
func raise(setting string, limit, def int) string {
	if limit != def {
		return " (policy.limits." + setting + ")"
	}
	return " (Databricks' default, which can be raised; an account whose limit was raised sets policy.limits." + setting + ")"
}

// validEmail reports whether s looks like an email address (see mapping.ValidEmail).
func validEmail(s string) bool { return mapping.ValidEmail(s) }

// thousands formats n with comma separators: 10,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// CheckWorkspaceHosts reports every workspace of an account-level state that has no host.
// An account reads and writes the entitlements of each declared workspace through that
// workspace's own SCIM API, which is on the workspace's URL, not on the accounts host
// (reference §1.2, §6); the reference documents no account API that gives a workspace's
// URL, so the manifest must. Callers skip it when the target is a unified host that
// serves workspaces by id (reference §1.4).
func CheckWorkspaceHosts(s *model.State) diag.List {
	var diags diag.List
	for _, w := range s.Workspaces {
		if strings.TrimSpace(w.Host) == "" {
			diags.Errorf(w.Origin, RuleNoWorkspaceHost, "workspace %s has no host: its entitlements are read and changed through its own SCIM API, on its own URL; add host: https://<workspace URL>", w.ID)
		}
	}
	return diags
}
