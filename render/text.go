// Package render turns plans, apply results and drift reports into text for people: plain
// text (optionally coloured) for terminals and logs, and Markdown for pull-request comments.
// The JSON form of a plan is the plan file itself (plan.Encode), the contract. Text and
// Markdown render a plan from one view model built once from that same value (view.go):
// the policy line, the counts per action, the summary line and a list of sections
// (removals, changes in phase order, warnings). How each action is shown is one entry of
// actionViews; a new section is one entry of the view's list.
//
// Package render imports plan and model.
package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
)

// Options tune text output.
type Options struct {
	// Color adds ANSI colours. Callers set it only on a terminal and never with NO_COLOR.
	Color bool
	// MaxMembers caps the members listed per membership change; 0 lists all.
	MaxMembers int
}

type palette struct{ on bool }

func (p palette) wrap(code, s string) string {
	if !p.on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p palette) green(s string) string  { return p.wrap("32", s) }
func (p palette) yellow(s string) string { return p.wrap("33", s) }
func (p palette) red(s string) string    { return p.wrap("31", s) }
func (p palette) bold(s string) string   { return p.wrap("1", s) }
func (p palette) dim(s string) string    { return p.wrap("2", s) }

// safe makes identity data harmless on a terminal and unambiguous to a reviewer: control
// characters (which could move the cursor, recolour or erase a line a reviewer should
// see), bidirectional controls (which reorder what is shown) and invisible characters such
// as zero-width spaces and joiners or the byte-order mark (which make two names look the
// same) are written as visible \u escapes; model.IsInvisible says which.
func safe(s string) string {
	if !strings.ContainsFunc(s, model.IsInvisible) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !model.IsInvisible(r):
			b.WriteRune(r)
		case r > 0xffff:
			fmt.Fprintf(&b, "\\U%08x", r)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

// Symbol returns the one-character marker of an action: + create, ~ update, - delete or
// unassign, ! deactivate.
func Symbol(a plan.Action) string { return viewOf(a).symbol }

func (p palette) symbol(s string) string {
	switch s {
	case "+":
		return p.green(s)
	case "-", "!":
		return p.red(s)
	}
	return p.yellow(s)
}

// Text writes a plan as text: its target and policy, one line per change with attribute
// diffs under updates, the note sections (warnings), and a summary line.
func Text(w io.Writer, p *plan.Plan, opts Options) error { return writeText(w, newView(p), opts) }

func writeText(w io.Writer, v *view, opts Options) error {
	c := palette{opts.Color}
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for %s\n", v.target)
	if v.live != "" {
		fmt.Fprintf(&b, "Live state: %s\n", v.live)
	}
	if v.authType != "" {
		fmt.Fprintf(&b, "Credentials: auth type %s\n", safe(v.authType))
	}
	fmt.Fprintf(&b, "Policy: %s\n", v.policy.line(func(s string) string { return s }))
	writeScope(&b, v.ignored, v.protected)
	if v.identityUnknown {
		b.WriteString(c.yellow("Identity:") + " " + identityUnknownText + "\n")
	}
	b.WriteString("\n")
	if len(v.risks) > 0 {
		// The risk section comes first, whole: grants, removals, protected identities.
		fmt.Fprintf(&b, "%s\n", c.bold("Review first ("+v.riskCounts()+"):"))
		blocked := 0
		for _, r := range v.risks {
			if r.typ == plan.RiskBlocked {
				blocked++ // listed whole under Blocked
				continue
			}
			fmt.Fprintf(&b, "  %s %s: %s\n", c.symbol(r.symbol), r.subject, safe(r.detail))
		}
		if blocked > 0 {
			fmt.Fprintf(&b, "  %s %s: see Blocked below\n", c.symbol("x"), count(blocked, "blocked difference"))
		}
		b.WriteString("\n")
	}
	if len(v.changes) == 0 {
		lead, rest := v.settledText()
		if v.blocked > 0 {
			b.WriteString(c.yellow(lead) + rest + "\n")
		} else {
			b.WriteString(c.green(lead) + rest + "\n")
		}
	}
	var after []section // brief sections' notes, said after the full list of changes
	for _, s := range v.sections {
		switch {
		case s.brief:
			// Text lists every change in full in the section that is not brief.
			if len(s.notes) > 0 {
				after = append(after, s)
			}
		case s.changes != nil:
			for _, cv := range s.changes {
				writeChange(&b, c, cv, opts, v.memberOf)
			}
			for _, a := range after {
				b.WriteString("\n" + c.yellow(a.title+":") + "\n")
				for _, n := range a.notes {
					fmt.Fprintf(&b, "  %s\n", n)
				}
			}
			after = nil
		default:
			b.WriteString("\n" + c.yellow(s.title+":") + "\n")
			for _, n := range s.notes {
				fmt.Fprintf(&b, "  - %s\n", safe(n))
			}
		}
	}
	if len(v.changes) > 0 || v.blocked > 0 {
		fmt.Fprintf(&b, "\n%s\n", c.bold(v.summary))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeScope writes the ignore patterns and protected identities a plan or drift report
// was made with, one line each, when there are any.
func writeScope(b *strings.Builder, ignore []string, protected []string) {
	if len(ignore) > 0 {
		fmt.Fprintf(b, "Ignored: %s\n", strings.Join(ignore, ", "))
	}
	if len(protected) > 0 {
		fmt.Fprintf(b, "Protected: %s\n", safe(strings.Join(protected, ", ")))
	}
}

// refStrings formats references as kind:key.
func refStrings(refs []model.Ref) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = safe(r.String())
	}
	return out
}

func limit(s string, none bool) string {
	if none {
		return "none"
	}
	return s
}

// Headline returns a change's one-line description without its marker, such as
// "user ada@example.com: deactivate" or "group data-eng: add 3 members".
func Headline(ch *plan.Change) string {
	cv := viewChange(ch)
	return cv.headline()
}

func kindName(k model.Kind) string {
	if k == model.KindServicePrincipal {
		return "service principal"
	}
	return string(k)
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func writeChange(b *strings.Builder, c palette, cv *changeView, opts Options, memberOf map[model.Ref][]string) {
	ch := cv.c
	fmt.Fprintf(b, "  %s %s", c.symbol(cv.symbol), cv.headline())
	if cv.how.reason {
		fmt.Fprintf(b, " %s", c.dim("("+safe(ch.Reason)+")"))
	}
	b.WriteString("\n")
	for _, l := range brings(ch, memberOf) {
		fmt.Fprintf(b, "      %s\n", c.green(safe(l)))
	}
	if cv.how.attributes {
		for _, a := range ch.Attributes {
			fmt.Fprintf(b, "      %s: %s -> %s\n", a.Name, c.red(Value(a.Before)), c.green(Value(a.After)))
		}
	}
	members := ch.Members
	more := 0
	if opts.MaxMembers > 0 && len(members) > opts.MaxMembers {
		more = len(members) - opts.MaxMembers
		members = members[:opts.MaxMembers]
	}
	sign := c.green("+")
	if ch.Action == plan.RemoveMembers {
		sign = c.red("-")
	}
	for _, m := range members {
		fmt.Fprintf(b, "      %s %s %s\n", sign, kindName(m.Kind), safe(m.Key))
	}
	if more > 0 {
		fmt.Fprintf(b, "      ... and %d more\n", more)
	}
}

// brings lists what a created identity brings with it, for review: its roles, its
// entitlements and the groups the plan adds it to: "roles: [account_admin]".
func brings(ch *plan.Change, memberOf map[model.Ref][]string) []string {
	if ch.Action != plan.Create || ch.After == nil {
		return nil
	}
	var roles, ents []string
	switch o := ch.After; {
	case o.User != nil:
		roles, ents = o.User.Roles, o.User.Entitlements
	case o.ServicePrincipal != nil:
		roles, ents = o.ServicePrincipal.Roles, o.ServicePrincipal.Entitlements
	case o.Group != nil:
		roles, ents = o.Group.Roles, o.Group.Entitlements
	}
	var out []string
	if len(roles) > 0 {
		out = append(out, "roles: "+Value(roles))
	}
	if len(ents) > 0 {
		out = append(out, "entitlements: "+Value(ents))
	}
	if gs := memberOf[ch.Ref()]; len(gs) > 0 {
		out = append(out, "groups: "+Value(gs))
	}
	return out
}

// Value formats an attribute value: strings quoted, lists in brackets, empty as "(none)".
func Value(v any) string {
	switch x := v.(type) {
	case nil:
		return "(none)"
	case string:
		if x == "" {
			return "(none)"
		}
		return fmt.Sprintf("%q", x)
	case bool:
		return fmt.Sprint(x)
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// SummaryLine sums a plan up in one line: "Plan: 3 to create, 1 to update, 2 to deactivate."
func SummaryLine(p *plan.Plan) string { return newView(p).summary }

// ApplyText writes the outcome of an apply: failures with their errors, in plan order, and a
// summary line.
func ApplyText(w io.Writer, r *plan.Result, opts Options) error {
	c := palette{opts.Color}
	var b strings.Builder
	for _, cr := range r.Changes {
		cv := viewChange(cr.Change)
		switch cr.Status {
		case plan.StatusFailed:
			fmt.Fprintf(&b, "  %s %s %s: %v\n", c.red("x"), cv.symbol, cv.headline(), safe(cr.Err.Error()))
		case plan.StatusSkipped:
			fmt.Fprintf(&b, "  %s %s %s: skipped: %v\n", c.yellow("x"), cv.symbol, cv.headline(), safe(cr.Err.Error()))
		}
	}
	counts := map[plan.Status]int{}
	for _, cr := range r.Changes {
		counts[cr.Status]++
	}
	var parts []string
	// The statuses in words: "not-run" is the JSON value, "not run" what people read.
	for _, s := range []struct {
		status plan.Status
		words  string
	}{{plan.StatusOK, "ok"}, {plan.StatusFailed, "failed"}, {plan.StatusSkipped, "skipped"}, {plan.StatusNotRun, "not run"}} {
		if counts[s.status] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s.status], s.words))
		}
	}
	line := fmt.Sprintf("Apply complete: %d of %d changes applied.", r.OK, len(r.Changes))
	if r.OK != len(r.Changes) {
		line = fmt.Sprintf("Apply incomplete: %s.", strings.Join(parts, ", "))
		if r.Stopped {
			line += " Stopped by interrupt."
		}
	}
	fmt.Fprintf(&b, "%s\n", c.bold(line))
	_, err := io.WriteString(w, b.String())
	return err
}
