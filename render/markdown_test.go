package render

import (
	"bytes"
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
		Now:    time.Unix(0, 0), OverrideGuards: true,
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
	removals := strings.Index(out, "### Removals")
	changes := strings.Index(out, "### Changes")
	table := strings.Index(out, "| `+` | create |")
	if table < 0 || removals < 0 || changes < 0 || !(table < removals && removals < changes) {
		t.Errorf("order wrong: table %d, removals %d, changes %d", table, removals, changes)
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
	out := buf.String()
	for _, bad := range []string{"<img", "@everyone", "[click](http"} {
		if strings.Contains(out, bad) {
			t.Errorf("output carries %q unescaped:\n%s", bad, out)
		}
	}
}
