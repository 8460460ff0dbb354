package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/scimsync/scimsync/model"
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

// Markdown writes a plan for a pull-request comment or job summary, in the shape
// reviewers know from Atlantis: the summary table, then the review section (every grant
// of privilege, removal and protected identity, never left out), then one collapsible,
// coloured diff block per kind of change, then the warnings. Output never exceeds the
// limit; changes left out are counted in a note, and note sections are shown whole. When
// even the review section does not fit, the comment says so and Markdown returns a
// *RiskOverflowError, so that the job fails rather than hide a risk.
func Markdown(w io.Writer, p *plan.Plan, opts MarkdownOptions) error {
	return writeMarkdown(w, newView(p), opts)
}

// RiskOverflowError reports a plan whose review section does not fit in a comment.
type RiskOverflowError struct{ Items, Limit int }

func (e *RiskOverflowError) Error() string {
	return fmt.Sprintf("the review section of the plan (%d grants, removals and protected identities) does not fit in a comment of %d bytes", e.Items, e.Limit)
}

// Hint says what to do instead.
func (e *RiskOverflowError) Hint() string {
	return "review the plan as text (scimsync show plan.json) or split the change into smaller pull requests"
}

func writeMarkdown(w io.Writer, v *view, opts MarkdownOptions) error {
	var head strings.Builder
	limit := opts.begin(&head)
	fmt.Fprintf(&head, "## scimsync plan: %s\n\n", strings.TrimSuffix(strings.TrimPrefix(v.summary, "Plan: "), "."))
	fmt.Fprintf(&head, "**Target:** %s  \n", code(v.target))
	if v.live != "" {
		fmt.Fprintf(&head, "**Live state:** %s  \n", v.live)
	}
	if v.authType != "" {
		fmt.Fprintf(&head, "**Credentials:** auth type %s  \n", code(v.authType))
	}
	fmt.Fprintf(&head, "**Policy:** %s  \n", v.policy.line(func(s string) string { return "**" + s + "**" }))
	if len(v.ignored) > 0 {
		fmt.Fprintf(&head, "**Ignored:** %s  \n", codes(v.ignored))
	}
	if len(v.protected) > 0 {
		fmt.Fprintf(&head, "**Protected:** %s  \n", codes(v.protected))
	}
	if v.identityUnknown {
		fmt.Fprintf(&head, "**Identity:** %s  \n", identityUnknownText)
	}
	head.WriteString("\n")
	if len(v.changes) == 0 {
		lead, rest := v.settledText()
		head.WriteString(lead + rest + "\n")
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
	var overflow error
	if risk := riskSection(v); risk != "" {
		if !out.fits(risk, min(pending, out.limit/4)+300) {
			overflow = &RiskOverflowError{Items: len(v.risks), Limit: limit}
			risk = fmt.Sprintf("\n> [!CAUTION]\n> **The review section has %d grants, removals and protected identities and does not fit in a comment: this job fails rather than hide any of them.**%s\n\n",
				len(v.risks), seeFull(opts.FullPlan))
		}
		out.force(risk)
	}
	for i, s := range v.sections {
		switch {
		case s.changes == nil:
			out.force(notes[i])
			pending -= len(notes[i])
		case s.brief:
			changeList(out, s, pending, opts)
		default:
			if err := changeBlocks(out, v, s, pending, opts); err != nil {
				return err
			}
		}
	}
	if _, err := io.WriteString(w, out.String()); err != nil {
		return err
	}
	return overflow
}

// riskSection renders the review section: every risk, one list item each, or "".
func riskSection(v *view) string {
	if len(v.risks) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n### Review first: %s\n\n", v.riskCounts())
	blocked := 0
	for _, r := range v.risks {
		if r.typ == plan.RiskBlocked {
			blocked++ // listed whole in the Blocked section
			continue
		}
		fmt.Fprintf(&b, "- `%s` %s: %s\n", r.symbol, subjectMD(r.subject), escape(r.detail))
	}
	if blocked > 0 {
		fmt.Fprintf(&b, "- `x` %s: see Blocked below\n", count(blocked, "blocked difference"))
	}
	b.WriteString("\n`+` grants privilege, `-` removes access, `=` protected: never changed, `x` blocked by the policy.\n")
	return b.String()
}

// subjectMD writes "kind key" with the key as code, so that identity data can carry no
// markup and an email address no mention.
func subjectMD(s string) string {
	kind, rest, ok := strings.Cut(s, " ")
	if kind == "service" {
		var k2 string
		k2, rest, ok = strings.Cut(rest, " ")
		kind += " " + k2
	}
	if !ok {
		return code(s)
	}
	return escape(kind) + " " + code(rest)
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

// changeList writes a brief section of changes, one line each, as many as fit while
// keeping pending bytes free for the note sections still to come, and says how many were
// left out.
func changeList(out *budget, s section, pending int, opts MarkdownOptions) {
	var b strings.Builder
	if s.alert != "" {
		fmt.Fprintf(&b, "\n> [!WARNING]\n> %s\n\n### %s\n\n", s.alert, s.title)
	} else {
		fmt.Fprintf(&b, "\n### %s\n\n", s.title)
	}
	out.add(b.String())
	shown := 0
	for _, cv := range s.changes {
		item := fmt.Sprintf("- `%s` %s — %s\n", cv.symbol, headlineMD(cv), escape(cv.c.Reason))
		if !out.fits(item, reserve(len(s.changes)-shown, pending)) {
			break
		}
		out.add(item)
		shown++
	}
	if left := len(s.changes) - shown; left > 0 {
		out.force(fmt.Sprintf("- … and %d more %s not shown here%s\n", left, s.noun, seeFull(opts.FullPlan)))
	}
}

// changeBlocks writes a section of changes as one collapsible diff block per kind of
// change (the rows of the counts table), each change a headline with its details under
// it, as many as fit, and says how many were left out.
func changeBlocks(out *budget, v *view, s section, pending int, opts MarkdownOptions) error {
	out.add(fmt.Sprintf("\n### %s\n\n", s.title))
	byName := map[string][]*changeView{}
	for _, cv := range s.changes {
		byName[countName(cv.c)] = append(byName[countName(cv.c)], cv)
	}
	left := 0
	for bi, n := range v.counts {
		cvs := byName[n.name]
		if len(cvs) == 0 {
			continue
		}
		open := fmt.Sprintf("<details><summary><code>%s</code> <b>%s</b>: %s</summary>\n\n```diff\n", symbolOf(n), n.name, kindCounts(n))
		const end = "```\n\n</details>\n\n"
		blocksLeft := len(v.counts) - bi - 1
		keep := pending + len(end) + blocksLeft*200 + 300
		if !out.fits(open, keep) {
			left += len(cvs)
			continue
		}
		out.add(open)
		shown := 0
		for _, cv := range cvs {
			lines, err := diffLines(cv, v.memberOf)
			if err != nil {
				return fmt.Errorf("render %s: %w", plan.Describe(cv.c), err)
			}
			chunk := fence(lines)
			if !out.fits(chunk, keep) {
				break
			}
			out.add(chunk)
			shown++
		}
		if n := len(cvs) - shown; n > 0 {
			out.force(fmt.Sprintf("  … %d more not shown\n", n))
			left += n
		}
		out.force(end)
	}
	if left > 0 {
		out.force(fmt.Sprintf("**%d of %d %s are not shown: the comment would exceed GitHub's limit.**%s\n",
			left, len(s.changes), s.noun, seeFull(opts.FullPlan)))
	}
	// What the changes do is said once, after them, and never cut.
	if len(s.notes) > 0 {
		var b strings.Builder
		b.WriteString("\n")
		for _, n := range s.notes {
			fmt.Fprintf(&b, "%s\n", escape(n))
		}
		out.force(b.String())
	}
	return nil
}

// symbolOf is the marker of a row of the counts.
func symbolOf(n actionCount) string {
	if n.name == "change-permission" {
		return "~"
	}
	return Symbol(n.action)
}

// kindCounts says how many changes of a row are about each kind: "2 users, 1 group".
func kindCounts(n actionCount) string {
	var parts []string
	if n.users > 0 {
		parts = append(parts, count(n.users, "user"))
	}
	if n.servicePrincipals > 0 {
		parts = append(parts, count(n.servicePrincipals, "service principal"))
	}
	if n.grp > 0 {
		parts = append(parts, count(n.grp, "group"))
	}
	return strings.Join(parts, ", ")
}

// diffLines renders one change for a diff block: its headline marked + (adds), - (removes
// or deactivates) or ~, then its details indented, each line marked as what it adds or
// removes so that GitHub colours it, then its reason as a context line.
func diffLines(cv *changeView, memberOf map[model.Ref][]string) (string, error) {
	c := cv.c
	mark := cv.symbol
	if mark == "!" {
		mark = "-"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", mark, safe(cv.headline()))
	for _, l := range brings(c, memberOf) {
		fmt.Fprintf(&b, "+     %s\n", safe(l))
	}
	switch cv.how.body {
	case bodyMembers:
		sign := "+"
		if c.Action == plan.RemoveMembers {
			sign = "-"
		}
		for _, m := range c.Members {
			fmt.Fprintf(&b, "%s     %s %s\n", sign, kindName(m.Kind), safe(m.Key))
		}
	default:
		if cv.how.attributes {
			for _, a := range c.Attributes {
				if bv := Value(a.Before); bv != "(none)" {
					fmt.Fprintf(&b, "-     %s: %s\n", a.Name, safe(bv))
				}
				if av := Value(a.After); av != "(none)" {
					fmt.Fprintf(&b, "+     %s: %s\n", a.Name, safe(av))
				}
			}
		}
	}
	if c.Reason != "" && cv.how.reason {
		fmt.Fprintf(&b, "      # %s\n", safe(c.Reason))
	}
	return b.String(), nil
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
		name := n.name
		if n.action.IsRemoval() {
			name = "**" + name + "**"
		}
		fmt.Fprintf(b, "| `%s` | %s | %d | %d | %d | %d |\n", symbolOf(n), name, n.users, n.servicePrincipals, n.grp, n.total())
	}
}

func headlineMD(cv *changeView) string {
	return escape(kindName(cv.c.Kind)) + " " + code(cv.c.Key) + escape(cv.rest)
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
// display name cannot inject markup, mentions or links into a comment. A word with an @
// (an email address, a mention) becomes a code span: GitHub makes no mention or link of
// it, and it copies as typed.
func escape(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "<", "&lt;", ">", "&gt;", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]", "`", "\\`", "|", "\\|", "#", "\\#")
	words := strings.Split(safe(s), " ")
	for i, w := range words {
		if strings.Contains(w, "@") {
			core := strings.TrimRight(w, ".,:;)")
			words[i] = code(core) + r.Replace(w[len(core):])
		} else {
			words[i] = r.Replace(w)
		}
	}
	return strings.Join(words, " ")
}

// htmlEscape escapes text for HTML, such as a <summary>; identity data with an @ goes in
// a <code> element (htmlCode), where GitHub makes no mention of it.
func htmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return r.Replace(safe(s))
}

// htmlCode writes s as an HTML <code> element.
func htmlCode(s string) string { return "<code>" + htmlEscape(s) + "</code>" }
