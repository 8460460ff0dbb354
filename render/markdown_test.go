package render

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimsync/scimsync/internal/golden"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/policy"
	"github.com/scimsync/scimsync/synth"
)

func TestMarkdownGolden(t *testing.T) {
	for _, dir := range scenarios(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Markdown(&buf, readPlan(t, dir), MarkdownOptions{Marker: "<!-- scimsync -->"}); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(dir, "plan.golden.md"), buf.Bytes())
		})
	}
}

// bigPlan plans a large organisation into an account that has another one: thousands of
// creations, memberships and deactivations.
func bigPlan(t *testing.T) *plan.Plan {
	t.Helper()
	desired := synth.Org(7, synth.Spec{Users: 3000, Groups: 300, Memberships: 6000, Depth: 3})
	live := synth.Org(8, synth.Spec{Users: 400, Groups: 10, Memberships: 100, Depth: 1})
	for i := range live.Users {
		live.Users[i].ID = "u" + live.Users[i].Key()
		live.Users[i].ExternalID = "old-" + live.Users[i].ExternalID
	}
	for i := range live.Groups {
		live.Groups[i].ID = "g" + live.Groups[i].Key()
	}
	p, err := plan.Diff(desired, live, policy.Default(), plan.Options{
		Target: plan.TargetID{Level: model.LevelAccount, Host: "https://accounts.example.test", AccountID: "a"},
		Now:    time.Unix(0, 0), OverrideGuards: true, AllowAdminRemoval: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMarkdownStaysUnderCommentLimit(t *testing.T) {
	p := bigPlan(t)
	var buf bytes.Buffer
	if err := Markdown(&buf, p, MarkdownOptions{FullPlan: "the plan artifact"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if len(out) >= CommentLimit {
		t.Fatalf("markdown is %d bytes, over GitHub's limit of %d", len(out), CommentLimit)
	}
	if !strings.Contains(out, "changes are not shown") || !strings.Contains(out, "The full plan is in the plan artifact.") {
		t.Errorf("no truncation note in:\n%s", out[len(out)-2000:])
	}
	risk := strings.Index(out, "### Review first")
	changes := strings.Index(out, "### Changes")
	table := strings.Index(out, "| `+` | create |")
	if table < 0 || risk < 0 || changes < 0 || !(table < risk && risk < changes) {
		t.Errorf("order wrong: table %d, review %d, changes %d", table, risk, changes)
	}
	// Every risk survives the cap: each deactivation is listed.
	for _, r := range p.Risks {
		if kind, key, _ := strings.Cut(r.Ref, ":"); !strings.Contains(out, "`"+key+"`: "+r.Detail) {
			t.Errorf("risk %s %s: %s is not in the comment", kind, key, r.Detail)
			break
		}
	}
	if strings.Count(out, "<details>") != strings.Count(out, "</details>") {
		t.Error("a collapsible section was cut in half")
	}
	if strings.Count(out, "```")%2 != 0 {
		t.Error("a code block was cut in half")
	}
}

func TestMarkdownEscapesIdentityData(t *testing.T) {
	p := &plan.Plan{Changes: []plan.Change{{
		Action: plan.Deactivate, Kind: model.KindUser, Key: "x@example.com",
		Reason: "not declared <img src=x onerror=alert(1)> @everyone [click](http://evil)",
	}}}
	p.Summary.ByAction = map[plan.Action]int{plan.Deactivate: 1}
	var buf bytes.Buffer
	if err := Markdown(&buf, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	// Outside code (where GitHub renders nothing), no markup, mention or link remains.
	out := outsideCode(buf.String())
	for _, bad := range []string{"<img", "@everyone", "[click](http"} {
		if strings.Contains(out, bad) {
			t.Errorf("output carries %q unescaped:\n%s", bad, out)
		}
	}
}

// outsideCode returns Markdown without its fenced code blocks and code spans, where text
// is shown as it is.
func outsideCode(md string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.SplitAfter(md, "\n") {
		if strings.HasPrefix(line, "```") {
			in = !in
			continue
		}
		if !in {
			parts := strings.Split(line, "`")
			for i := 0; i < len(parts); i += 2 {
				b.WriteString(parts[i])
			}
		}
	}
	return b.String()
}

// TestLargePlanKeepsEveryRisk renders a plan of thousands of changes in which a few
// existing users get account_admin and hundreds are deactivated: the comment stays under
// GitHub's limit, the changes are cut, and every grant and removal is in it.
// testdata/large-risk/plan.golden.md; -update rewrites it.
func TestLargePlanKeepsEveryRisk(t *testing.T) {
	desired := synth.Org(7, synth.Spec{Users: 3000, Groups: 300, Memberships: 6000, Depth: 3})
	live := synth.Org(8, synth.Spec{Users: 400, Groups: 10, Memberships: 100, Depth: 1})
	for i := range live.Users {
		live.Users[i].ID = "u" + live.Users[i].Key()
		live.Users[i].ExternalID = "old-" + live.Users[i].ExternalID
		if i%40 == 0 {
			// An existing user who is declared, and becomes an account admin.
			u := live.Users[i]
			u.ID, u.Roles = "", []string{"account_admin"}
			desired.Users = append(desired.Users, u)
		}
	}
	for i := range live.Groups {
		live.Groups[i].ID = "g" + live.Groups[i].Key()
	}
	p, err := plan.Diff(desired, live, policy.Default(), plan.Options{
		Target: plan.TargetID{Level: model.LevelAccount, Host: "https://accounts.example.test", AccountID: "a"},
		Now:    time.Unix(0, 0), OverrideGuards: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	grants, removals := 0, 0
	for _, r := range p.Risks {
		switch r.Type {
		case plan.RiskGrant:
			grants++
		case plan.RiskRemoval:
			removals++
		}
	}
	if grants < 5 || removals < 100 || len(p.Changes) < 3000 {
		t.Fatalf("the plan has %d grants and %d removals in %d changes; the test needs a large plan with both", grants, removals, len(p.Changes))
	}
	var buf bytes.Buffer
	if err := Markdown(&buf, p, MarkdownOptions{FullPlan: "the plan artifact"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if len(out) >= CommentLimit || !strings.Contains(out, "changes are not shown") {
		t.Fatalf("%d bytes, want a cut comment under %d", len(out), CommentLimit)
	}
	for _, r := range p.Risks {
		if _, key, _ := strings.Cut(r.Ref, ":"); !strings.Contains(out, "`"+key+"`: "+escape(r.Detail)) {
			t.Errorf("risk %s: %s is not in the comment", r.Ref, r.Detail)
		}
	}
	if d := parseGFM(t, buf.Bytes()); len(d.rawText) > 0 || len(d.swallowed) > 0 {
		t.Errorf("raw Markdown %q or swallowed %q", d.rawText, d.swallowed)
	}
	golden.Check(t, filepath.Join("testdata", "large-risk", "plan.golden.md"), buf.Bytes())
}

// TestRiskOverflowFails checks that a review section that cannot fit is not cut: the
// comment says so, and Markdown returns an error for the job to fail on.
func TestRiskOverflowFails(t *testing.T) {
	p := readPlan(t, "../plan/testdata/scenarios/guard-max-removals")
	var buf bytes.Buffer
	err := Markdown(&buf, p, MarkdownOptions{Limit: 900, FullPlan: "`plan.json`"})
	var overflow *RiskOverflowError
	if !errors.As(err, &overflow) || overflow.Items != len(p.Risks) {
		t.Fatalf("err = %v, want a RiskOverflowError for %d items", err, len(p.Risks))
	}
	if out := buf.String(); !strings.Contains(out, "does not fit in a comment: this job fails rather than hide any of them") || len(out) > 900 {
		t.Errorf("the comment does not say so, or is over the limit (%d bytes):\n%s", len(out), out)
	}
}
