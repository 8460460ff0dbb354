package render

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimsync/scimsync/internal/golden"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
)

// driftScenarios returns the drift scenarios of the plan package: each directory holds the
// JSON drift report that the renderings here are made from.
func driftScenarios(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("../plan/testdata/drift/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no drift scenarios: %v", err)
	}
	return dirs
}

func readDrift(t *testing.T, path string) *plan.DriftReport {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := plan.DecodeDrift(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDriftGolden renders every drift scenario as text and Markdown.
func TestDriftGolden(t *testing.T) {
	for _, dir := range driftScenarios(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := readDrift(t, filepath.Join(dir, "drift.golden.json"))
			var txt, md bytes.Buffer
			if err := DriftText(&txt, r, Options{}); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(dir, "drift.golden.txt"), txt.Bytes())
			if err := DriftMarkdown(&md, r, MarkdownOptions{Marker: "<!-- scimsync:drift -->"}); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(dir, "drift.golden.md"), md.Bytes())
		})
	}
}

func TestDriftSummaryLine(t *testing.T) {
	r := readDrift(t, "../plan/testdata/drift/mixed/drift.golden.json")
	if got, want := DriftSummaryLine(r), "Drift: 1 missing, 5 changed, 2 unmanaged; 3 in sync."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	r = readDrift(t, "../plan/testdata/drift/in-sync/drift.golden.json")
	if got, want := DriftSummaryLine(r), "No drift: 3 objects in sync."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDriftTextFromSnapshot(t *testing.T) {
	taken := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &plan.DriftReport{Live: plan.LiveSource{Kind: plan.LiveSnapshot, File: "snap.json", TakenAt: &taken}}
	var buf bytes.Buffer
	if err := DriftText(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Live state: snapshot snap.json taken 2026-01-02T03:04:05Z\n") {
		t.Errorf("output:\n%s", buf.String())
	}
}

// bigDrift is a report with thousands of changed objects.
func bigDrift() *plan.DriftReport {
	r := &plan.DriftReport{Objects: []plan.DriftObject{}}
	for i := range 3000 {
		r.Objects = append(r.Objects, plan.DriftObject{Status: plan.Changed, Kind: model.KindGroup, Key: fmt.Sprintf("group-%04d", i),
			Differences: []plan.Difference{{Aspect: plan.AspectMembers, Missing: []plan.Member{{Kind: model.KindUser, Key: fmt.Sprintf("user-%04d@example.com", i)}}}}})
	}
	r.Summary.Drift = true
	r.Summary.Changed = plan.KindCounts{Groups: 3000, Total: 3000}
	r.Warnings = []string{"a warning that must survive the cut"}
	return r
}

func TestDriftMarkdownStaysUnderCommentLimit(t *testing.T) {
	var buf bytes.Buffer
	if err := DriftMarkdown(&buf, bigDrift(), MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if len(out) >= CommentLimit {
		t.Fatalf("markdown is %d bytes, over GitHub's limit of %d", len(out), CommentLimit)
	}
	if !strings.Contains(out, "objects are not shown") || !strings.Contains(out, "a warning that must survive the cut") {
		t.Errorf("no truncation note or warning in:\n%s", out[len(out)-1000:])
	}
	if strings.Count(out, "<details>") != strings.Count(out, "</details>") || strings.Count(out, "```")%2 != 0 {
		t.Error("a section was cut in half")
	}
}

// TestTruncatedGolden pins the truncation notes of plans and drift reports that do not fit
// in one comment.
func TestTruncatedGolden(t *testing.T) {
	p := readPlan(t, "../plan/testdata/scenarios/create-everything")
	var buf bytes.Buffer
	if err := Markdown(&buf, p, MarkdownOptions{Limit: 1500, FullPlan: "the `scimsync-plan` artifact"}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/truncated/plan.golden.md", buf.Bytes())
	r := readDrift(t, "../plan/testdata/drift/mixed/drift.golden.json")
	buf.Reset()
	if err := DriftMarkdown(&buf, r, MarkdownOptions{Limit: 1500}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/truncated/drift.golden.md", buf.Bytes())
}

func TestDriftMarkdownEscapesIdentityData(t *testing.T) {
	r := &plan.DriftReport{Objects: []plan.DriftObject{
		{Status: plan.Unmanaged, Kind: model.KindGroup, Key: "<img src=x onerror=alert(1)> @everyone"},
		{Status: plan.Changed, Kind: model.KindUser, Key: "x@example.com", Differences: []plan.Difference{
			{Aspect: plan.AspectAttribute, Name: "displayName", Live: "```\n<script>", Declared: "[click](http://evil)"}}},
	}}
	r.Summary.Drift = true
	var buf bytes.Buffer
	if err := DriftMarkdown(&buf, r, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	// Code spans and code blocks show their text as it is; outside them nothing may
	// carry markup, mentions or links.
	out := regexp.MustCompile("(?s)```diff\n.*?```\n|`[^`\n]*`").ReplaceAllString(buf.String(), "")
	for _, bad := range []string{"<img", "@everyone", "<script>", "[click]"} {
		if strings.Contains(out, bad) {
			t.Errorf("output carries %q outside code:\n%s", bad, buf.String())
		}
	}
	if strings.Count(buf.String(), "```")%2 != 0 {
		t.Errorf("identity data closed a code block:\n%s", buf.String())
	}
}

// TestNotDriftCountsInWords checks the plural of the excluded built-in groups.
func TestNotDriftCountsInWords(t *testing.T) {
	r := &plan.DriftReport{Objects: []plan.DriftObject{
		{Status: plan.Excluded, Reason: string(plan.ExcludedBuiltIn)},
		{Status: plan.Excluded, Reason: string(plan.ExcludedBuiltIn)},
		{Status: plan.Excluded, Reason: string(plan.ExcludedProtected)},
	}}
	r.Summary.Excluded.Total = 3
	if got, want := notDrift(r), "3 out of scope (2 built-in groups, 1 protected)"; got != want {
		t.Errorf("notDrift = %q, want %q", got, want)
	}
}
