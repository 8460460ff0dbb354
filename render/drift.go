package render

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/scimsync/scimsync/plan"
)

// driftSymbol returns the marker of a drift status: + missing (would be created), ~ changed,
// ? unmanaged (nothing declares it).
func driftSymbol(s plan.DriftStatus) string {
	switch s {
	case plan.Missing:
		return "+"
	case plan.Changed:
		return "~"
	}
	return "?"
}

// driftTitles name the sections of a report, for the statuses that are drift.
var driftTitles = map[plan.DriftStatus]string{
	plan.Missing:   "Missing (declared, not live)",
	plan.Changed:   "Changed (declared and live, but different)",
	plan.Unmanaged: "Unmanaged (live and in scope, not declared)",
}

// DriftSummaryLine sums a drift report up in one line: "Drift: 1 missing, 2 changed,
// 1 unmanaged; 40 in sync." or "No drift: 43 objects in sync."
func DriftSummaryLine(r *plan.DriftReport) string {
	s := r.Summary
	if !s.Drift {
		return fmt.Sprintf("No drift: %s in sync.", count(s.InSync.Total, "object"))
	}
	return fmt.Sprintf("Drift: %d missing, %d changed, %d unmanaged; %d in sync.",
		s.Missing.Total, s.Changed.Total, s.Unmanaged.Total, s.InSync.Total)
}

// liveSource describes where the live state of a report was read.
func liveSource(r *plan.DriftReport) string {
	if r.Live.Kind != plan.LiveSnapshot {
		return "read through the SCIM API"
	}
	s := "snapshot " + r.Live.File
	if r.Live.TakenAt != nil {
		s += " taken " + r.Live.TakenAt.UTC().Format(time.RFC3339)
	}
	return s
}

// notDrift describes the objects a report lists that are not drift: "1 deactivated,
// 3 excluded (2 protected, 1 built-in group)", or "" when there are none.
func notDrift(r *plan.DriftReport) string {
	var parts []string
	if n := r.Summary.Deactivated.Total; n > 0 {
		parts = append(parts, fmt.Sprintf("%d deactivated and not declared", n))
	}
	if n := r.Summary.Excluded.Total; n > 0 {
		reasons := map[string]int{}
		for _, o := range r.Objects {
			if o.Status == plan.Excluded {
				reasons[o.Reason]++
			}
		}
		keys := make([]string, 0, len(reasons))
		for k := range reasons {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		why := make([]string, len(keys))
		for i, k := range keys {
			why[i] = fmt.Sprintf("%d %s", reasons[k], k)
			if k == string(plan.ExcludedBuiltIn) {
				why[i] = count(reasons[k], k) // "2 built-in groups"
			}
		}
		parts = append(parts, fmt.Sprintf("%d out of scope (%s)", n, strings.Join(why, ", ")))
	}
	return strings.Join(parts, ", ")
}

// differenceLines renders one difference as the line of its live value and the line of its
// declared value; either is empty when there is no value on that side. Members come as
// several lines each.
func differenceLines(d plan.Difference) (live, declared []string) {
	switch d.Aspect {
	case plan.AspectMembers:
		for _, m := range d.Extra {
			live = append(live, fmt.Sprintf("member %s %s", kindName(m.Kind), safe(m.Key)))
		}
		for _, m := range d.Missing {
			declared = append(declared, fmt.Sprintf("member %s %s", kindName(m.Kind), safe(m.Key)))
		}
		return live, declared
	}
	name := d.Name
	if d.Workspace != "" {
		name = fmt.Sprintf("workspace %s %s", d.Workspace, d.Name)
	}
	if v := Value(d.Live); v != "(none)" {
		live = append(live, name+": "+v)
	}
	if v := Value(d.Declared); v != "(none)" {
		declared = append(declared, name+": "+v)
	}
	return live, declared
}

// DriftText writes a drift report as text: the target and where the live state came from,
// one section per kind of drift with each object's differences (live value, then declared
// value), the warnings, and a summary line.
func DriftText(w io.Writer, r *plan.DriftReport, opts Options) error {
	c := palette{opts.Color}
	var b strings.Builder
	fmt.Fprintf(&b, "Drift report for %s\nLive state: %s\n", r.Target, liveSource(r))
	writeScope(&b, r.Ignore, refStrings(r.Protected))
	for _, status := range []plan.DriftStatus{plan.Missing, plan.Changed, plan.Unmanaged} {
		objs := objectsOf(r, status)
		if len(objs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s:\n", driftTitles[status])
		for _, o := range objs {
			sym := c.yellow(driftSymbol(status))
			if status == plan.Missing {
				sym = c.green(driftSymbol(status))
			}
			fmt.Fprintf(&b, "  %s %s %s%s\n", sym, kindName(o.Kind), safe(o.Key), c.dim(safe(objectNote(o))))
			for _, d := range o.Differences {
				live, declared := differenceLines(d)
				for _, l := range live {
					fmt.Fprintf(&b, "      %s %s\n", c.red("-"), l)
				}
				for _, l := range declared {
					fmt.Fprintf(&b, "      %s %s\n", c.green("+"), l)
				}
			}
		}
	}
	if len(r.Warnings) > 0 {
		b.WriteString("\n" + c.yellow("Warnings:") + "\n")
		for _, wn := range r.Warnings {
			fmt.Fprintf(&b, "  - %s\n", safe(wn))
		}
	}
	b.WriteString("\n")
	if nd := notDrift(r); nd != "" {
		fmt.Fprintf(&b, "Not drift: %s.\n", nd)
	}
	line := DriftSummaryLine(r)
	if r.Summary.Drift {
		line = c.bold(line)
	} else {
		line = c.green(line)
	}
	fmt.Fprintf(&b, "%s\n", line)
	if slices.ContainsFunc(r.Objects, func(o plan.DriftObject) bool { return len(o.Differences) > 0 }) {
		b.WriteString(c.dim("(- live value, + declared value)") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// objectNote is what follows an object's name: where it is declared, or why it is listed.
func objectNote(o *plan.DriftObject) string {
	var parts []string
	if o.DeclaredAt != "" {
		parts = append(parts, "declared at "+o.DeclaredAt)
	}
	if o.Reason != "" {
		parts = append(parts, o.Reason)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

func objectsOf(r *plan.DriftReport, status plan.DriftStatus) []*plan.DriftObject {
	var out []*plan.DriftObject
	for i := range r.Objects {
		if r.Objects[i].Status == status {
			out = append(out, &r.Objects[i])
		}
	}
	return out
}

// DriftMarkdown writes a drift report for a job summary, an issue or a pull-request comment:
// a table of counts first, then the missing, changed and unmanaged objects, each changed
// one with a diff of its live (-) and declared (+) values in a collapsible section. It uses
// the escaping of Markdown and keeps under opts.Limit in the same way; what is left out is
// counted in a note.
func DriftMarkdown(w io.Writer, r *plan.DriftReport, opts MarkdownOptions) error {
	var head strings.Builder
	limit := opts.begin(&head)
	title := "no drift"
	if r.Summary.Drift {
		title = strings.TrimSuffix(strings.TrimPrefix(DriftSummaryLine(r), "Drift: "), ".")
	}
	fmt.Fprintf(&head, "## scimsync drift: %s\n\n", title)
	fmt.Fprintf(&head, "**Target:** %s  \n**Live state:** %s  \n", code(r.Target.String()), escape(liveSource(r)))
	if len(r.Ignore) > 0 {
		fmt.Fprintf(&head, "**Ignored:** %s  \n", codes(r.Ignore))
	}
	if refs := refStrings(r.Protected); len(refs) > 0 {
		fmt.Fprintf(&head, "**Protected:** %s  \n", codes(refs))
	}
	head.WriteString("\n| Status | Users | Service principals | Groups | Total |\n|---|--:|--:|--:|--:|\n")
	for _, status := range plan.DriftStatuses {
		n := r.Summary.Of(status)
		name := string(status)
		switch {
		case status.IsDrift() && n.Total > 0:
			name = "**" + name + "**"
		case !status.IsDrift() && status != plan.InSync:
			name += " (not drift)"
		}
		fmt.Fprintf(&head, "| %s | %d | %d | %d | %d |\n", name, n.Users, n.ServicePrincipals, n.Groups, n.Total)
	}
	if r.Summary.Drift {
		head.WriteString("\n> [!WARNING]\n> The live state differs from the declared one. `scimsync plan` shows the changes that reconcile them.\n")
	} else {
		head.WriteString("\nThe live state matches the declared one.\n")
	}
	var tail strings.Builder
	if len(r.Warnings) > 0 {
		tail.WriteString("\n### Warnings\n\n")
		for _, wn := range r.Warnings {
			fmt.Fprintf(&tail, "- %s\n", escape(wn))
		}
	}

	out := &budget{limit: limit}
	out.add(head.String())
	var drifted []*plan.DriftObject
	for i := range r.Objects {
		if r.Objects[i].Status.IsDrift() {
			drifted = append(drifted, &r.Objects[i])
		}
	}
	shown := 0
	var section plan.DriftStatus
	for _, o := range drifted {
		var b strings.Builder
		if o.Status != section {
			section = o.Status
			fmt.Fprintf(&b, "\n### %s\n\n", escape(driftTitles[section]))
		}
		b.WriteString(driftItem(o))
		if !out.fits(b.String(), reserve(len(drifted)-shown, tail.Len())) {
			break
		}
		out.add(b.String())
		shown++
	}
	if shown < len(drifted) {
		out.force(fmt.Sprintf("\n**%d of %d objects are not shown: the text would exceed GitHub's limit.** Run `scimsync drift --format json` for the full report.\n",
			len(drifted)-shown, len(drifted)))
	}
	if nd := notDrift(r); nd != "" {
		tail.WriteString("\nNot drift: " + escape(nd) + ".\n")
	}
	if slices.ContainsFunc(drifted, func(o *plan.DriftObject) bool { return len(o.Differences) > 0 }) {
		// The legend of the text report: a red - line is the live value, not a removal.
		tail.WriteString("\nIn the diffs, `-` is the live value and `+` the declared value: `scimsync plan` would change the first into the second.\n")
	}
	out.force(tail.String())
	_, err := io.WriteString(w, out.String())
	return err
}

// driftItem renders one object: a list item, or a collapsible section with a diff when it
// has differences.
func driftItem(o *plan.DriftObject) string {
	sym := driftSymbol(o.Status)
	if len(o.Differences) == 0 {
		return fmt.Sprintf("- `%s` %s %s%s\n", sym, escape(kindName(o.Kind)), code(o.Key), escape(objectNote(o)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary><code>%s</code> %s %s%s</summary>\n\n```diff\n", sym, htmlEscape(kindName(o.Kind)), htmlCode(o.Key), htmlEscape(objectNote(o)))
	var lines strings.Builder
	for _, d := range o.Differences {
		live, declared := differenceLines(d)
		for _, l := range live {
			lines.WriteString("- " + l + "\n")
		}
		for _, l := range declared {
			lines.WriteString("+ " + l + "\n")
		}
	}
	b.WriteString(fence(lines.String()))
	// A blank line ends the HTML block: without it, GFM swallows the next list item.
	b.WriteString("```\n\n</details>\n\n")
	return b.String()
}
