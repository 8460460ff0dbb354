package render

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
)

// TestEveryActionHasAView checks that each action of the plan package says how it is
// shown, and is counted by a phrase of the summary line.
func TestEveryActionHasAView(t *testing.T) {
	for _, a := range plan.Actions {
		v, ok := actionViews[a]
		if !ok {
			t.Errorf("action %s has no entry in actionViews", a)
			continue
		}
		if !slices.Contains(summaryPhrases, v.summary) {
			t.Errorf("action %s is counted as %q, which is not a summary phrase", a, v.summary)
		}
		if v.headline == nil || v.symbol == "" {
			t.Errorf("action %s has no headline or symbol", a)
		}
	}
}

// TestViewCountsOnce checks that the summary line and the Markdown table come from the same
// counts: every change counted once, whatever its action.
func TestViewCountsOnce(t *testing.T) {
	p := readPlan(t, "../plan/testdata/scenarios/workspace-assignments")
	v := newView(p)
	total := 0
	byAction := map[plan.Action]int{}
	for _, n := range v.counts {
		total += n.total()
		byAction[n.action] += n.total()
	}
	for a, n := range byAction {
		if got := p.Summary.ByAction[a]; got != n {
			t.Errorf("%s: the view counts %d, the plan's summary %d", a, n, got)
		}
	}
	if names := []string{v.counts[1].name, v.counts[2].name}; names[0] != "assign" || names[1] != "change-permission" {
		t.Errorf("a USER to ADMIN change is not counted apart from new assignments: %v", names)
	}
	if total != len(p.Changes) {
		t.Errorf("the view counts %d changes, the plan has %d", total, len(p.Changes))
	}
	if want := "Plan: 1 to create, 3 to update, 4 workspace assignment changes."; v.summary != want {
		t.Errorf("summary = %q, want %q", v.summary, want)
	}
}

// TestSectionIsOneEntry checks that a section added to the view is rendered by both Text
// and Markdown, in its place, without more code.
func TestSectionIsOneEntry(t *testing.T) {
	p := readPlan(t, "../plan/testdata/scenarios/removal-delete")
	v := newView(p)
	v.sections = slices.Insert(v.sections, 0, section{title: "Risks", notes: []string{"removes an admin"}})
	var text, md bytes.Buffer
	if err := writeText(&text, v, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := writeMarkdown(&md, v, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "Risks:\n  - removes an admin\n") {
		t.Errorf("text does not show the section:\n%s", text.String())
	}
	out := md.String()
	if i, j := strings.Index(out, "### Risks\n\n- removes an admin\n"), strings.Index(out, "### Changes"); i < 0 || j < i {
		t.Errorf("markdown does not show the section before the changes:\n%s", out)
	}
}

// TestViewOfUnknownAction checks that a change of an action this build does not know is
// still shown, named by its action.
func TestViewOfUnknownAction(t *testing.T) {
	c := &plan.Change{Action: "transmogrify", Kind: model.KindUser, Key: "ada@example.com"}
	if got, want := Headline(c), "user ada@example.com: transmogrify"; got != want {
		t.Errorf("Headline = %q, want %q", got, want)
	}
}
