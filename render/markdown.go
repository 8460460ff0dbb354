package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/plan"
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
// then the sections of the plan's view: removals highlighted and listed before anything
// else, each change with a unified diff of its object's canonical YAML in a collapsible
// section, and the warnings. Output never exceeds the limit; what is left out is counted
// in a note, and note sections (warnings) are always shown whole.
func Markdown(w io.Writer, p *plan.Plan, opts MarkdownOptions) error {
	return writeMarkdown(w, newView(p), opts)
}

func writeMarkdown(w io.Writer, v *view, opts MarkdownOptions) error {
	var head strings.Builder
	limit := opts.begin(&head)
	fmt.Fprintf(&head, "## scimsync plan: %s\n\n", strings.TrimSuffix(strings.TrimPrefix(v.summary, "Plan: "), "."))
	fmt.Fprintf(&head, "**Target:** %s  \n", code(v.target))
	fmt.Fprintf(&head, "**Policy:** removal %s; guards %s", v.policy.removal, v.policy.guards)
	if v.policy.overridden {
		head.WriteString(" (**overridden**)")
	}
	if v.policy.allowUserReplace {
		head.WriteString("; allowUserReplace")
	}
	head.WriteString("  \n")
	if len(v.ignored) > 0 {
		fmt.Fprintf(&head, "**Ignored:** %s  \n", codes(v.ignored))
	}
	if len(v.protected) > 0 {
		fmt.Fprintf(&head, "**Protected:** %s  \n", codes(v.protected))
	}
	head.WriteString("\n")
	if len(v.changes) == 0 {
		head.WriteString("No changes. The live state matches the desired state.\n")
	} else {
		writeTable(&head, v)
	}

	// Note sections are shown whole: render them first, to keep room for them.
	notes := make([]string, len(v.sections))
	pending := 0
	for i, s := range v.sections {
		if s.changes == nil {
			notes[i] = noteSection(s)
			pending += len(notes[i])
		}
	}
	out := &budget{limit: limit}
	out.add(head.String())
	for i, s := range v.sections {
		if s.changes == nil {
			out.force(notes[i])
			pending -= len(notes[i])
			continue
		}
		if err := changeList(out, s, pending, opts); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// noteSection renders a section of notes: a heading and one item per note.
func noteSection(s section) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### %s\n\n", s.title)
	for _, n := range s.notes {
		fmt.Fprintf(&b, "- %s\n", escape(n))
	}
	return b.String()
}

// changeList writes a section of changes, one line each when it is brief and in
// collapsible sections otherwise, as many as fit while keeping pending bytes free for the
// note sections still to come, and says how many were left out.
func changeList(out *budget, s section, pending int, opts MarkdownOptions) error {
	var b strings.Builder
	if s.alert != "" {
		fmt.Fprintf(&b, "\n> [!WARNING]\n> %s\n\n### %s\n\n", s.alert, s.title)
	} else {
		fmt.Fprintf(&b, "\n### %s\n\n", s.title)
	}
	out.add(b.String())
	shown := 0
	for _, cv := range s.changes {
		var item string
		if s.brief {
			item = fmt.Sprintf("- `%s` %s — %s\n", cv.symbol, headlineMD(cv), escape(cv.c.Reason))
		} else {
			var err error
			if item, err = changeSection(cv); err != nil {
				return fmt.Errorf("render %s: %w", plan.Describe(cv.c), err)
			}
		}
		if !out.fits(item, reserve(len(s.changes)-shown, pending)) {
			break
		}
		out.add(item)
		shown++
	}
	switch left := len(s.changes) - shown; {
	case left == 0:
	case s.brief:
		out.force(fmt.Sprintf("- … and %d more %s not shown here%s\n", left, s.noun, seeFull(opts.FullPlan)))
	default:
		out.force(fmt.Sprintf("\n**%d of %d %s are not shown: the comment would exceed GitHub's limit.**%s\n",
			left, len(s.changes), s.noun, seeFull(opts.FullPlan)))
	}
	return nil
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

func writeTable(b *strings.Builder, v *view) {
	b.WriteString("| | Action | Users | Service principals | Groups | Total |\n|---|---|--:|--:|--:|--:|\n")
	for _, n := range v.counts {
		name := string(n.action)
		if n.action.IsRemoval() {
			name = "**" + name + "**"
		}
		fmt.Fprintf(b, "| `%s` | %s | %d | %d | %d | %d |\n", Symbol(n.action), name, n.users, n.servicePrincipals, n.grp, n.total())
	}
}

func headlineMD(cv *changeView) string {
	return escape(kindName(cv.c.Kind)) + " " + code(cv.c.Key) + escape(cv.rest)
}

// changeSection renders one change as a collapsible section with a diff of its object.
func changeSection(cv *changeView) (string, error) {
	d, err := changeDiff(cv)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary><code>%s</code> %s</summary>\n\n", cv.symbol, htmlEscape(cv.headline()))
	if cv.c.Reason != "" {
		fmt.Fprintf(&b, "%s\n\n", escape(cv.c.Reason))
	}
	b.WriteString("```diff\n")
	b.WriteString(fence(safeLines(d)))
	b.WriteString("```\n\n</details>\n\n")
	return b.String(), nil
}

// changeDiff returns what a change's section shows (see body): a unified diff of the
// canonical YAML of its object before and after, its members, or its attributes in one
// workspace.
func changeDiff(cv *changeView) (string, error) {
	c := cv.c
	var b strings.Builder
	switch cv.how.body {
	case bodyMembers:
		sign := "+"
		if c.Action == plan.RemoveMembers {
			sign = "-"
		}
		fmt.Fprintf(&b, " %s %s members:\n", kindName(c.Kind), c.Key)
		for _, m := range c.Members {
			fmt.Fprintf(&b, "%s  - %s %s\n", sign, kindName(m.Kind), m.Key)
		}
		return b.String(), nil
	case bodyWorkspace:
		fmt.Fprintf(&b, " workspace %s, %s %s:\n", c.Workspace, kindName(c.Kind), c.Key)
		for _, a := range c.Attributes {
			if bv := Value(a.Before); bv != "(none)" {
				fmt.Fprintf(&b, "-  %s: %s\n", a.Name, bv)
			}
			if av := Value(a.After); av != "(none)" {
				fmt.Fprintf(&b, "+  %s: %s\n", a.Name, av)
			}
		}
		if c.Action == plan.Assign && c.Permission != nil && c.Permission.From == "" {
			fmt.Fprintf(&b, "+  permission: %s\n", c.Permission.To)
		}
		return b.String(), nil
	}
	before, err := canonicalYAML(c.Before)
	if err != nil {
		return "", err
	}
	after, err := canonicalYAML(c.After)
	if err != nil {
		return "", err
	}
	return unifiedDiff(before, after), nil
}

// canonicalYAML renders an object as YAML with sorted keys and without its SCIM id, or ""
// for no object.
func canonicalYAML(o *plan.Object) (string, error) {
	var v any
	switch {
	case o == nil:
		return "", nil
	case o.User != nil:
		v = o.User
	case o.ServicePrincipal != nil:
		v = o.ServicePrincipal
	case o.Group != nil:
		v = o.Group
	default:
		return "", nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", err
	}
	delete(m, "id")
	if mem, ok := m["members"].(map[string]any); ok && len(mem) == 0 {
		delete(m, "members")
	}
	out, err := yaml.Marshal(m)
	if err != nil {
		return "", err
	}
	return string(out), nil
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

// safeLines is safe for each line of a multi-line text, keeping the line breaks.
func safeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = safe(l)
	}
	return strings.Join(lines, "\n")
}

// fence keeps text from closing its code block.
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
