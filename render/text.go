// Package render turns plans, apply results and drift reports into text for people: plain
// text (optionally coloured) for terminals and logs, and Markdown for pull-request comments.
// Everything is rendered from the same values that are serialised as JSON, so the JSON form
// stays the contract.
//
// Package render imports plan, model and diag.
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
func Symbol(a plan.Action) string {
	switch a {
	case plan.Create, plan.Assign:
		return "+"
	case plan.Delete, plan.Unassign:
		return "-"
	case plan.Deactivate:
		return "!"
	}
	return "~"
}

// changeSymbol is Symbol, except that a permission change of an existing assignment is an
// update (~), not an addition.
func changeSymbol(ch *plan.Change) string {
	if ch.Action == plan.Assign && ch.Permission.From != "" {
		return "~"
	}
	return Symbol(ch.Action)
}

func (p palette) symbol(ch *plan.Change) string {
	s := changeSymbol(ch)
	switch s {
	case "+":
		return p.green(s)
	case "-", "!":
		return p.red(s)
	}
	return p.yellow(s)
}

// Text writes a plan as text: its target and policy, one line per change with attribute
// diffs under updates, warnings, and a summary line.
func Text(w io.Writer, p *plan.Plan, opts Options) error {
	c := palette{opts.Color}
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for %s\n", p.Target)
	if p.AuthType != "" {
		fmt.Fprintf(&b, "Credentials: auth type %s\n", safe(p.AuthType))
	}
	writePolicy(&b, p)
	b.WriteString("\n")
	if p.Empty() {
		b.WriteString(c.green("No changes.") + " The live state matches the desired state.\n")
	}
	for i := range p.Changes {
		writeChange(&b, c, &p.Changes[i], opts)
	}
	if len(p.Warnings) > 0 {
		b.WriteString("\n" + c.yellow("Warnings:") + "\n")
		for _, wn := range p.Warnings {
			fmt.Fprintf(&b, "  - %s\n", safe(wn))
		}
	}
	if !p.Empty() {
		fmt.Fprintf(&b, "\n%s\n", c.bold(SummaryLine(p)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writePolicy(b *strings.Builder, p *plan.Plan) {
	pol := p.Policy
	fmt.Fprintf(b, "Policy: removal users=%s servicePrincipals=%s groups=%s; guards maxRemovals=%s maxRemovalPercent=%s",
		pol.Removal.Users, pol.Removal.ServicePrincipals, pol.Removal.Groups,
		limit(fmt.Sprint(pol.Guards.MaxRemovals), pol.Guards.MaxRemovals == 0),
		limit(fmt.Sprintf("%g%%", pol.Guards.MaxRemovalPercent), pol.Guards.MaxRemovalPercent == 0))
	if p.GuardOverride {
		b.WriteString(" (overridden)")
	}
	if pol.AllowUserReplace {
		b.WriteString("; allowUserReplace")
	}
	b.WriteString("\n")
	writeScope(b, pol.Scope.Ignore, p.Protected)
}

// writeScope writes the ignore patterns and protected identities a plan or drift report
// was made with, one line each, when there are any.
func writeScope(b *strings.Builder, ignore []string, protected []model.Ref) {
	if len(ignore) > 0 {
		fmt.Fprintf(b, "Ignored: %s\n", strings.Join(ignore, ", "))
	}
	if len(protected) > 0 {
		fmt.Fprintf(b, "Protected: %s\n", strings.Join(refStrings(protected), ", "))
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
	subject := fmt.Sprintf("%s %s", kindName(ch.Kind), safe(ch.Key))
	switch ch.Action {
	case plan.Create:
		return subject
	case plan.AddMembers:
		return fmt.Sprintf("%s: add %s", subject, count(len(ch.Members), "member"))
	case plan.RemoveMembers:
		return fmt.Sprintf("%s: remove %s", subject, count(len(ch.Members), "member"))
	case plan.Assign:
		return fmt.Sprintf("%s: assign to workspace %s as %s", subject, ch.Workspace, ch.Permission.To)
	case plan.Unassign:
		return fmt.Sprintf("%s: unassign from workspace %s", subject, ch.Workspace)
	case plan.Rename:
		return fmt.Sprintf("%s: rename", subject)
	case plan.SetEntitlements:
		return fmt.Sprintf("%s: update in workspace %s", subject, ch.Workspace)
	case plan.Update:
		return subject
	}
	return fmt.Sprintf("%s: %s", subject, ch.Action)
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

func writeChange(b *strings.Builder, c palette, ch *plan.Change, opts Options) {
	fmt.Fprintf(b, "  %s %s", c.symbol(ch), Headline(ch))
	if ch.Action.IsRemoval() || ch.Action == plan.Rename || ch.Action == plan.Reactivate || ch.Action == plan.Create {
		fmt.Fprintf(b, " %s", c.dim("("+safe(ch.Reason)+")"))
	}
	b.WriteString("\n")
	for _, a := range ch.Attributes {
		if ch.Action == plan.Assign && len(ch.Attributes) == 1 && a.Name == "permission" {
			fmt.Fprintf(b, "      permission: %s -> %s\n", Value(a.Before), Value(a.After))
			continue
		}
		if ch.Action == plan.Unassign || ch.Action == plan.Deactivate {
			continue
		}
		fmt.Fprintf(b, "      %s: %s -> %s\n", a.Name, c.red(Value(a.Before)), c.green(Value(a.After)))
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
func SummaryLine(p *plan.Plan) string {
	if p.Empty() {
		return "Plan: no changes."
	}
	by := p.Summary.ByAction
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(by[plan.Create], "to create")
	add(by[plan.Update]+by[plan.Reactivate]+by[plan.SetEntitlements], "to update")
	add(by[plan.Rename], "to rename")
	add(by[plan.AddMembers]+by[plan.RemoveMembers], "membership changes")
	add(by[plan.Assign]+by[plan.Unassign], "workspace assignment changes")
	add(by[plan.Deactivate], "to deactivate")
	add(by[plan.Delete], "to delete")
	return "Plan: " + strings.Join(parts, ", ") + "."
}

// ApplyText writes the outcome of an apply: failures with their errors, in plan order, and a
// summary line.
func ApplyText(w io.Writer, r *plan.Result, opts Options) error {
	c := palette{opts.Color}
	var b strings.Builder
	for _, cr := range r.Changes {
		switch cr.Status {
		case plan.StatusFailed:
			fmt.Fprintf(&b, "  %s %s %s: %v\n", c.red("x"), changeSymbol(cr.Change), Headline(cr.Change), safe(cr.Err.Error()))
		case plan.StatusSkipped:
			fmt.Fprintf(&b, "  %s %s %s: skipped: %v\n", c.yellow("x"), changeSymbol(cr.Change), Headline(cr.Change), safe(cr.Err.Error()))
		}
	}
	counts := map[plan.Status]int{}
	for _, cr := range r.Changes {
		counts[cr.Status]++
	}
	var parts []string
	for _, s := range []plan.Status{plan.StatusOK, plan.StatusFailed, plan.StatusSkipped, plan.StatusNotRun} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
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
