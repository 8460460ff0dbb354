package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/policy"
)

// CommentLimit is GitHub's limit on the length of an issue or pull-request comment.
const CommentLimit = 65536

// MarkdownOptions tune Markdown output.
type MarkdownOptions struct {
	// Limit caps the output length in bytes; 0 means a margin under CommentLimit. Details
	// that do not fit are left out with a note saying how many, never cut mid-way.
	Limit int
	// Marker is an HTML comment put first, for finding the comment again (sticky comments).
	Marker string
	// FullPlan names where the complete plan can be read, for the truncation note (a
	// workflow artifact, a file name).
	FullPlan string
}

// begin writes the marker, if any, to the head of a document and returns the length
// limit of the options.
func (o MarkdownOptions) begin(head *strings.Builder) int {
	if o.Marker != "" {
		fmt.Fprintf(head, "%s\n", o.Marker)
	}
	if o.Limit <= 0 {
		return CommentLimit - 1536
	}
	return o.Limit
}

// Markdown writes a plan for a pull-request comment or job summary: a summary table first,
// removals highlighted and listed before anything else, then each change with a unified
// diff of its object's canonical YAML in a collapsible section. Output never exceeds the
// limit; what is left out is counted in a note.
func Markdown(w io.Writer, p *plan.Plan, opts MarkdownOptions) error {
	var head strings.Builder
	limit := opts.begin(&head)
	fmt.Fprintf(&head, "## scimsync plan: %s\n\n", strings.TrimSuffix(strings.TrimPrefix(SummaryLine(p), "Plan: "), "."))
	fmt.Fprintf(&head, "**Target:** %s  \n", code(p.Target.String()))
	if p.AuthType != "" {
		fmt.Fprintf(&head, "**Credentials:** auth type %s  \n", code(p.AuthType))
	}
	pol := p.Policy
	fmt.Fprintf(&head, "**Policy:** removal users=%s, service principals=%s, groups=%s; %s",
		pol.Removal.Users, pol.Removal.ServicePrincipals, pol.Removal.Groups, guardPhrase(pol.Guards))
	if p.GuardOverride {
		head.WriteString(" (**overridden**)")
	}
	head.WriteString("  \n")
	if len(pol.Scope.Ignore) > 0 {
		fmt.Fprintf(&head, "**Ignored:** %s  \n", codes(pol.Scope.Ignore))
	}
	if len(p.Protected) > 0 {
		fmt.Fprintf(&head, "**Protected:** %s  \n", codes(refStrings(p.Protected)))
	}
	head.WriteString("\n")
	if p.Empty() {
		head.WriteString("No changes. The live state matches the desired state.\n")
	} else {
		writeTable(&head, p)
	}

	var removals []*plan.Change
	for i := range p.Changes {
		if p.Changes[i].Action.IsRemoval() {
			removals = append(removals, &p.Changes[i])
		}
	}
	var tail strings.Builder
	if len(p.Warnings) > 0 {
		tail.WriteString("\n### Warnings\n\n")
		for _, wn := range p.Warnings {
			fmt.Fprintf(&tail, "- %s\n", escape(wn))
		}
	}

	out := &budget{limit: limit}
	out.add(head.String())
	if len(removals) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "\n> [!WARNING]\n> This plan removes access: %s.\n\n### Removals\n\n", removalCount(removals))
		out.add(b.String())
		shown := 0
		for _, c := range removals {
			line := fmt.Sprintf("- `%s` %s — %s\n", changeSymbol(c), headlineMD(c), escape(c.Reason))
			if !out.fits(line, reserve(len(removals)-shown, tail.Len())) {
				break
			}
			out.add(line)
			shown++
		}
		if shown < len(removals) {
			out.force(fmt.Sprintf("- … and %d more removals not shown here%s\n", len(removals)-shown, seeFull(opts.FullPlan)))
		}
	}
	if !p.Empty() {
		out.add("\n### Changes\n\n")
		shown := 0
		for i := range p.Changes {
			sec := changeSection(&p.Changes[i])
			if !out.fits(sec, reserve(len(p.Changes)-shown, tail.Len())) {
				break
			}
			out.add(sec)
			shown++
		}
		if shown < len(p.Changes) {
			out.force(fmt.Sprintf("\n**%d of %d changes are not shown: the comment would exceed GitHub's limit.**%s\n",
				len(p.Changes)-shown, len(p.Changes), seeFull(opts.FullPlan)))
		}
	}
	out.force(tail.String())
	_, err := io.WriteString(w, out.String())
	return err
}

// budget is a builder with a length limit.
type budget struct {
	strings.Builder
	limit int
}

// fits reports whether s fits while keeping room for what must still come.
func (b *budget) fits(s string, keep int) bool { return b.Len()+len(s)+keep <= b.limit }

// add appends s when it fits.
func (b *budget) add(s string) {
	if b.Len()+len(s) <= b.limit {
		b.WriteString(s)
	}
}

// force appends s, cutting it at the limit if it must.
func (b *budget) force(s string) {
	if room := b.limit - b.Len(); len(s) > room {
		s = s[:max(room, 0)]
	}
	b.WriteString(s)
}

// reserve is the room kept for the truncation note and the warnings.
func reserve(left, tail int) int {
	if left <= 1 {
		return tail
	}
	return tail + 300
}

func seeFull(where string) string {
	if where == "" {
		return " Run `scimsync show` on the plan file to read it all."
	}
	return " The full plan is in " + where + "."
}

func guardPhrase(g policy.Guards) string {
	var parts []string
	if g.MaxRemovals > 0 {
		parts = append(parts, fmt.Sprintf("at most %d removals", g.MaxRemovals))
	}
	if g.MaxRemovalPercent > 0 {
		parts = append(parts, fmt.Sprintf("at most %g%% of managed identities removed", g.MaxRemovalPercent))
	}
	if len(parts) == 0 {
		return "no removal guards"
	}
	return "guards: " + strings.Join(parts, ", ")
}

func removalCount(rs []*plan.Change) string {
	var deact, del int
	for _, c := range rs {
		if c.Action == plan.Deactivate {
			deact++
		} else {
			del++
		}
	}
	var parts []string
	if deact > 0 {
		parts = append(parts, fmt.Sprintf("**%d deactivated**", deact))
	}
	if del > 0 {
		parts = append(parts, fmt.Sprintf("**%d deleted**", del))
	}
	return strings.Join(parts, " and ")
}

func writeTable(b *strings.Builder, p *plan.Plan) {
	type row struct{ user, sp, group int }
	rows := map[plan.Action]*row{}
	for i := range p.Changes {
		c := &p.Changes[i]
		r := rows[c.Action]
		if r == nil {
			r = &row{}
			rows[c.Action] = r
		}
		switch c.Kind {
		case model.KindUser:
			r.user++
		case model.KindServicePrincipal:
			r.sp++
		case model.KindGroup:
			r.group++
		}
	}
	b.WriteString("| | Action | Users | Service principals | Groups | Total |\n|---|---|--:|--:|--:|--:|\n")
	for _, a := range plan.Actions {
		r := rows[a]
		if r == nil {
			continue
		}
		name := string(a)
		if a.IsRemoval() {
			name = "**" + name + "**"
		}
		fmt.Fprintf(b, "| `%s` | %s | %d | %d | %d | %d |\n", Symbol(a), name, r.user, r.sp, r.group, r.user+r.sp+r.group)
	}
}

func headlineMD(c *plan.Change) string {
	subject := kindName(c.Kind) + " " + safe(c.Key)
	rest := strings.TrimPrefix(Headline(c), subject)
	return escape(kindName(c.Kind)) + " " + code(c.Key) + escape(rest)
}

// changeSection renders one change as a collapsible section with a diff of its object.
func changeSection(c *plan.Change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary><code>%s</code> %s</summary>\n\n", changeSymbol(c), htmlEscape(Headline(c)))
	if c.Reason != "" {
		fmt.Fprintf(&b, "%s\n\n", escape(c.Reason))
	}
	b.WriteString("```diff\n")
	b.WriteString(fence(safeLines(changeDiff(c))))
	b.WriteString("```\n\n</details>\n\n")
	return b.String()
}

// changeDiff returns a unified diff of the canonical YAML of a change's object before and
// after, or for changes without objects, the lines it adds and removes.
func changeDiff(c *plan.Change) string {
	switch c.Action {
	case plan.AddMembers, plan.RemoveMembers:
		sign := "+"
		if c.Action == plan.RemoveMembers {
			sign = "-"
		}
		var b strings.Builder
		fmt.Fprintf(&b, " %s %s members:\n", kindName(c.Kind), c.Key)
		for _, m := range c.Members {
			fmt.Fprintf(&b, "%s  - %s %s\n", sign, kindName(m.Kind), m.Key)
		}
		return b.String()
	case plan.Assign, plan.Unassign, plan.SetEntitlements:
		var b strings.Builder
		fmt.Fprintf(&b, " workspace %s, %s %s:\n", c.Workspace, kindName(c.Kind), c.Key)
		for _, a := range c.Attributes {
			if bv := Value(a.Before); bv != "(none)" {
				fmt.Fprintf(&b, "-  %s: %s\n", a.Name, bv)
			}
			if av := Value(a.After); av != "(none)" {
				fmt.Fprintf(&b, "+  %s: %s\n", a.Name, av)
			}
		}
		if c.Action == plan.Assign && c.Permission.From == "" {
			fmt.Fprintf(&b, "+  permission: %s\n", c.Permission.To)
		}
		return b.String()
	}
	before, after := canonicalYAML(c.Before), canonicalYAML(c.After)
	if c.Action == plan.Delete {
		after = ""
	}
	return unifiedDiff(before, after)
}

// canonicalYAML renders an object as YAML with sorted keys and without its SCIM id.
func canonicalYAML(o *plan.Object) string {
	if o == nil {
		return ""
	}
	var v any
	switch {
	case o.User != nil:
		v = o.User
	case o.ServicePrincipal != nil:
		v = o.ServicePrincipal
	case o.Group != nil:
		v = o.Group
	default:
		return ""
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return ""
	}
	delete(m, "id")
	if mem, ok := m["members"].(map[string]any); ok && len(mem) == 0 {
		delete(m, "members")
	}
	out, err := yaml.Marshal(m)
	if err != nil {
		return ""
	}
	return string(out)
}

// unifiedDiff compares two texts line by line and prefixes each line with "+", "-" or " ".
func unifiedDiff(before, after string) string {
	dmp := diffmatchpatch.New()
	a, b, lines := dmp.DiffLinesToChars(before, after)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(a, b, false), lines)
	var out strings.Builder
	for _, d := range diffs {
		prefix := " "
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			prefix = "+"
		case diffmatchpatch.DiffDelete:
			prefix = "-"
		}
		for _, line := range strings.SplitAfter(d.Text, "\n") {
			if line == "" {
				continue
			}
			out.WriteString(prefix + line)
			if !strings.HasSuffix(line, "\n") {
				out.WriteString("\n")
			}
		}
	}
	return out.String()
}

// fence keeps text from closing its code block.
// safeLines is safe for each line of a multi-line text, keeping the line breaks.
func safeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = safe(l)
	}
	return strings.Join(lines, "\n")
}

func fence(s string) string { return strings.ReplaceAll(s, "```", "`\u200b``") }

func code(s string) string { return "`" + strings.ReplaceAll(safe(s), "`", "'") + "`" }

func codes(list []string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = code(s)
	}
	return strings.Join(out, ", ")
}

// escape neutralises Markdown and HTML in text that comes from identity data, so that a
// display name cannot inject markup, mentions or links into a comment.
func escape(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "<", "&lt;", ">", "&gt;", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]", "`", "\\`", "|", "\\|", "@", "@\u200b", "#", "\\#")
	return r.Replace(safe(s))
}

func htmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "@", "@\u200b")
	return r.Replace(safe(s))
}
