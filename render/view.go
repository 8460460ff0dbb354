package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
)

// actionView says how the changes of one action are shown. Every action of the plan
// package has an entry in actionViews; a new action is shown by adding one.
type actionView struct {
	// symbol marks the change: + adds, ~ changes, - removes, ! deactivates.
	symbol string
	// summary is the phrase of the summary line that counts the change, one of
	// summaryPhrases.
	summary string
	// headline returns what follows "kind key" in the change's one-line description, such
	// as ": add 3 members"; it is given the change with its payload.
	headline func(c *plan.Change) string
	// reason shows the change's reason next to its headline in text.
	reason bool
	// attributes lists the change's attribute differences under its headline in text.
	attributes bool
	// body is what Markdown shows in a change's collapsible section.
	body body
}

// body is what Markdown shows for a change.
type body int

const (
	bodyObject    body = iota // a unified diff of the object's canonical YAML, before and after
	bodyMembers               // the members added or removed
	bodyWorkspace             // the attribute differences in one workspace
)

// summaryPhrases are the phrases of the summary line, in order.
var summaryPhrases = []string{"to create", "to update", "to rename", "membership changes", "workspace assignment changes", "to deactivate", "to delete"}

func none(*plan.Change) string { return "" }

var actionViews = map[plan.Action]actionView{
	plan.Create: {symbol: "+", summary: "to create", headline: none, reason: true, attributes: true},
	plan.Update: {symbol: "~", summary: "to update", headline: none, attributes: true},
	plan.Rename: {symbol: "~", summary: "to rename", reason: true, attributes: true,
		headline: func(*plan.Change) string { return ": rename" }},
	plan.Reactivate: {symbol: "~", summary: "to update", reason: true, attributes: true,
		headline: func(*plan.Change) string { return ": reactivate" }},
	plan.AddMembers: {symbol: "~", summary: "membership changes", body: bodyMembers,
		headline: func(c *plan.Change) string { return ": add " + count(len(c.Members), "member") }},
	plan.RemoveMembers: {symbol: "~", summary: "membership changes", body: bodyMembers,
		headline: func(c *plan.Change) string { return ": remove " + count(len(c.Members), "member") }},
	plan.Assign: {symbol: "+", summary: "workspace assignment changes", attributes: true, body: bodyWorkspace,
		headline: func(c *plan.Change) string {
			if c.Permission != nil && c.Permission.From != "" {
				return fmt.Sprintf(": change permission in workspace %s from %s to %s", c.Workspace, c.Permission.From, c.Permission.To)
			}
			return fmt.Sprintf(": assign to workspace %s as %s", c.Workspace, permissionTo(c))
		}},
	plan.SetEntitlements: {symbol: "~", summary: "to update", attributes: true, body: bodyWorkspace,
		headline: entitlementsHeadline},
	plan.Unassign: {symbol: "-", summary: "workspace assignment changes", body: bodyWorkspace,
		headline: func(c *plan.Change) string { return ": unassign from workspace " + c.Workspace }},
	plan.Deactivate: {symbol: "!", summary: "to deactivate", reason: true,
		headline: func(*plan.Change) string { return ": deactivate" }},
	plan.Delete: {symbol: "-", summary: "to delete", reason: true,
		headline: func(*plan.Change) string { return ": delete" }},
}

// viewOf returns how an action is shown; an action this build does not know (which
// plan.Decode refuses) is shown as a change named by its action.
func viewOf(a plan.Action) actionView {
	if v, ok := actionViews[a]; ok {
		return v
	}
	return actionView{symbol: "~", summary: "to update", attributes: true,
		headline: func(c *plan.Change) string { return ": " + string(c.Action) }}
}

// entitlementsHeadline says which entitlements a change grants and revokes:
// ": grant allow-cluster-create, revoke workspace-access in workspace 1001".
func entitlementsHeadline(c *plan.Change) string {
	var parts []string
	if e := c.Entitlements; e != nil {
		if len(e.Grant) > 0 {
			parts = append(parts, "grant "+strings.Join(e.Grant, ", "))
		}
		if len(e.Revoke) > 0 {
			parts = append(parts, "revoke "+strings.Join(e.Revoke, ", "))
		}
	}
	if len(parts) == 0 {
		return ": update entitlements in workspace " + c.Workspace
	}
	return ": " + strings.Join(parts, "; ") + " in workspace " + c.Workspace
}

func permissionTo(c *plan.Change) string {
	if c.Permission == nil {
		return ""
	}
	return c.Permission.To
}

// view is a plan prepared for people: built once by newView from the plan (the value the
// JSON plan file holds), and written by Text and Markdown, which differ only in markup.
type view struct {
	target   string
	authType string // the credentials' auth type, "" when the plan does not record it
	// live describes a live state that came from a snapshot file, "" otherwise.
	live      string
	policy    policyView
	ignored   []string
	protected []string
	// counts are the changes per action, in the order of plan.Actions, for the actions the
	// plan has.
	counts []actionCount
	// summary sums the plan up in one line: "Plan: 3 to create, 2 to deactivate."
	summary  string
	changes  []changeView
	sections []section
	// risks are the plan's risk section: every grant of privilege, removal and protected
	// identity, shown first and never left out.
	risks []riskLine
	// memberOf maps an identity the plan creates to the groups the plan adds it to.
	memberOf map[model.Ref][]string
	// identityUnknown says that the credentials' identity could not be found out.
	identityUnknown bool
	// blocked counts what the plan cannot do (plan.Blocked); a plan with blocked entries
	// never says that the state matches.
	blocked int
}

// riskLine is one item of the risk section.
type riskLine struct {
	typ     plan.RiskType
	symbol  string // + grant, - removal, = protected
	subject string // "user ann@example.com", "service principal etl (3f9c...)"
	detail  string
}

// riskSymbols mark the types of risk.
var riskSymbols = map[plan.RiskType]string{plan.RiskGrant: "+", plan.RiskRemoval: "-", plan.RiskProtected: "=", plan.RiskBlocked: "x"}

// riskCounts says how many risks of each type a view has: "2 grants, 1 removal, 1 protected".
func (v *view) riskCounts() string {
	n := map[plan.RiskType]int{}
	for _, r := range v.risks {
		n[r.typ]++
	}
	var parts []string
	if n[plan.RiskGrant] > 0 {
		parts = append(parts, count(n[plan.RiskGrant], "grant"))
	}
	if n[plan.RiskRemoval] > 0 {
		parts = append(parts, count(n[plan.RiskRemoval], "removal"))
	}
	if n[plan.RiskProtected] > 0 {
		parts = append(parts, fmt.Sprintf("%d protected", n[plan.RiskProtected]))
	}
	if n[plan.RiskBlocked] > 0 {
		parts = append(parts, fmt.Sprintf("%d blocked", n[plan.RiskBlocked]))
	}
	return strings.Join(parts, ", ")
}

// subject names an identity for people: its kind and key, and for a service principal
// keyed by applicationId its displayName first.
func subject(k model.Kind, key, name string) string {
	if k == model.KindServicePrincipal && name != "" && name != key {
		return kindName(k) + " " + safe(name) + " (" + safe(key) + ")"
	}
	return kindName(k) + " " + safe(key)
}

// settledText is what a plan without changes says: that the state matches, or, when
// something is blocked, that it does not.
func (v *view) settledText() (lead, rest string) {
	if v.blocked > 0 {
		return "No changes can be made.", fmt.Sprintf(" The live state does not match the desired state: %s blocked (see Blocked).", count(v.blocked, "difference"))
	}
	return "No changes.", " The live state matches the desired state."
}

// policyView is the policy a plan was made with, in the words of the config file.
type policyView struct {
	removal          string // users=deactivate servicePrincipals=deactivate groups=delete
	guards           string // maxRemovals=25 maxRemovalPercent=10%
	overridden       bool   // the guards were overridden for this plan
	adminOverridden  bool   // the admin guard was overridden for this plan
	allowUserReplace bool
}

// line is the policy line of every format, with em marking the overrides (bold in
// Markdown, nothing in text).
func (p policyView) line(em func(string) string) string {
	s := "removal " + p.removal + "; guards " + p.guards
	if p.overridden {
		s += " (" + em("overridden") + ")"
	}
	if p.allowUserReplace {
		s += "; allowUserReplace"
	}
	if p.adminOverridden {
		s += "; admin guard " + em("overridden")
	}
	return s
}

// identityUnknownText is what a plan says when the credentials' identity is unknown.
const identityUnknownText = "unknown (the account API cannot say whose token this is): it is protected only if policy.protected lists it"

// actionCount counts the changes of one action by kind.
type actionCount struct {
	action plan.Action
	// name is the row's name: the action, or change-permission (see countName).
	name                          string
	users, servicePrincipals, grp int
}

func (c actionCount) total() int { return c.users + c.servicePrincipals + c.grp }

// changeView is one change prepared for display.
type changeView struct {
	c      *plan.Change
	symbol string
	// rest is what follows "kind key" in the headline: ": add 3 members".
	rest string
	how  actionView
}

// viewChange prepares one change for display.
func viewChange(c *plan.Change) changeView {
	how := viewOf(c.Action)
	cv := changeView{c: c, symbol: how.symbol, rest: how.headline(c), how: how}
	if c.Action == plan.Assign && c.Permission != nil && c.Permission.From != "" {
		cv.symbol = "~" // a permission change of an existing assignment
	}
	return cv
}

// headline returns the change's one-line description without its marker, such as
// "user ada@example.com: deactivate", with identity data made safe for a terminal.
func (cv *changeView) headline() string { return subject(cv.c.Kind, cv.c.Key, cv.c.Name) + cv.rest }

// countName is the row of the counts a change is counted in: its action, except that a
// changed permission of an existing assignment (USER to ADMIN) is not a new assignment.
func countName(c *plan.Change) string {
	if c.Action == plan.Assign && c.Permission != nil && c.Permission.From != "" {
		return "change-permission"
	}
	return string(c.Action)
}

// section is a part of a rendered plan after its header: a list of changes or of notes
// under a title. newView owns the list; a new section is one more entry there.
type section struct {
	title string
	// alert, when set, is a sentence in Markdown inline markup shown before the section as
	// a warning. Only brief sections have one so far.
	alert string
	// changes are the changes the section lists: in full, or one line each when brief.
	// Text lists every change in full once, so it leaves brief sections out.
	changes []*changeView
	brief   bool
	// noun names what the section lists, for the note on what a length limit left out.
	noun string
	// notes are lines of text, always shown whole.
	notes []string
}

// newView prepares a plan for display.
func newView(p *plan.Plan) *view {
	v := &view{target: p.Target.String(), authType: p.AuthType, live: planLive(p), ignored: p.Policy.Scope.Ignore}
	pol := p.Policy
	v.policy = policyView{
		removal: fmt.Sprintf("users=%s servicePrincipals=%s groups=%s", pol.Removal.Users, pol.Removal.ServicePrincipals, pol.Removal.Groups),
		guards: fmt.Sprintf("maxRemovals=%s maxRemovalPercent=%s",
			limit(fmt.Sprint(pol.Guards.MaxRemovals), pol.Guards.MaxRemovals == 0),
			limit(fmt.Sprintf("%g%%", pol.Guards.MaxRemovalPercent), pol.Guards.MaxRemovalPercent == 0)),
		overridden:       p.GuardOverride,
		adminOverridden:  p.AdminGuardOverride,
		allowUserReplace: pol.AllowUserReplace,
	}
	v.identityUnknown = p.IdentityUnknown
	for _, r := range p.Protected {
		v.protected = append(v.protected, r.String())
	}

	byName := map[string]*actionCount{}
	v.changes = make([]changeView, len(p.Changes))
	v.memberOf = map[model.Ref][]string{}
	var all, removals []*changeView
	for i := range p.Changes {
		c := &p.Changes[i]
		cv := &v.changes[i]
		*cv = viewChange(c)
		all = append(all, cv)
		if c.Action.IsRemoval() {
			removals = append(removals, cv)
		}
		if c.Action == plan.AddMembers {
			for _, m := range c.Members {
				if m.ID == "" {
					r := model.Ref{Kind: m.Kind, Key: m.Key}
					v.memberOf[r] = append(v.memberOf[r], c.Key)
				}
			}
		}
		n := byName[countName(c)]
		if n == nil {
			n = &actionCount{action: c.Action, name: countName(c)}
			byName[countName(c)] = n
		}
		switch c.Kind {
		case model.KindUser:
			n.users++
		case model.KindServicePrincipal:
			n.servicePrincipals++
		case model.KindGroup:
			n.grp++
		}
	}
	phrases := map[string]int{}
	for _, a := range plan.Actions {
		for _, name := range []string{string(a), "change-permission"} {
			if n := byName[name]; n != nil && n.action == a {
				v.counts = append(v.counts, *n)
				phrases[viewOf(a).summary] += n.total()
			}
		}
	}
	v.summary = "Plan: no changes."
	var parts []string
	for _, ph := range summaryPhrases {
		if n := phrases[ph]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, ph))
		}
	}
	if v.blocked = len(p.Blocked); v.blocked > 0 {
		parts = append(parts, fmt.Sprintf("%d blocked", v.blocked))
	}
	if len(parts) > 0 {
		v.summary = "Plan: " + strings.Join(parts, ", ") + "."
	}

	names := map[model.Ref]string{}
	for _, c := range p.Changes {
		if c.Name != "" {
			names[c.Ref()] = c.Name
		}
	}
	for _, r := range p.Risks {
		kind, key, _ := strings.Cut(r.Ref, ":")
		ref := model.Ref{Kind: model.Kind(kind), Key: key}
		v.risks = append(v.risks, riskLine{typ: r.Type, symbol: riskSymbols[r.Type], subject: subject(ref.Kind, ref.Key, names[ref]), detail: r.Detail})
	}
	if len(all) > 0 {
		v.sections = append(v.sections, section{title: "Changes", noun: "changes", changes: all})
	}
	if len(removals) > 0 {
		// The removals are listed in the review section; what they do is said once here.
		v.sections = append(v.sections, section{title: "What the removals do", notes: consequences(removals)})
	}
	if len(p.Blocked) > 0 {
		var notes []string
		for _, b := range p.Blocked {
			notes = append(notes, kindName(b.Kind)+" "+b.Key+": "+b.Reason)
		}
		v.sections = append(v.sections, section{title: "Blocked", notes: notes})
	}
	if len(p.Warnings) > 0 {
		v.sections = append(v.sections, section{title: "Warnings", notes: p.Warnings})
	}
	return v
}

// consequences says once what the plan's kinds of removal do to the identities they hit
// (from Databricks' documentation of deleting and deactivating users, issue 12 point 6).
func consequences(rs []*changeView) []string {
	var deact, del bool
	for _, cv := range rs {
		if cv.c.Action == plan.Deactivate {
			deact = true
		} else if cv.c.Kind != model.KindGroup {
			del = true
		}
	}
	var out []string
	if deact || del {
		out = append(out, "A deactivated or deleted user or service principal can no longer sign in or call Databricks: its personal access tokens and OAuth tokens stop working, jobs that run as it fail, clusters it owns stop, and dashboards that run as their owner break.")
	}
	if deact {
		out = append(out, "Deactivation can be undone: reactivating the identity restores its access.")
	}
	if del {
		out = append(out, "Deletion cannot be undone: the identity is removed from the account with the objects that belong to it.")
	}
	for _, cv := range rs {
		if cv.c.Action == plan.Delete && cv.c.Kind == model.KindGroup {
			out = append(out, "Deleting a group removes the access its members had through it.")
			break
		}
	}
	return out
}

// planLive describes a plan's live state when it came from a snapshot: the file, when it
// was taken and how long before the plan, or "" for a plan read through the API.
func planLive(p *plan.Plan) string {
	if p.Live == nil || p.Live.Kind != plan.LiveSnapshot {
		return ""
	}
	s := "snapshot " + safe(p.Live.File)
	if t := p.Live.TakenAt; t != nil {
		s += fmt.Sprintf(" taken %s (%s before this plan)", t.UTC().Format(time.RFC3339), age(p.CreatedAt.Sub(*t)))
	}
	return s + "; apply checks the objects the plan touches against the account"
}

// age formats a duration for people: minutes below two hours, hours below two days, days.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0m"
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
