package render

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/internal/golden"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
)

// scenarios returns the plan scenarios of the plan package: each directory holds the plan
// JSON that the renderings here are made from.
func scenarios(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("../plan/testdata/scenarios/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no plan scenarios: %v", err)
	}
	return dirs
}

func readPlan(t *testing.T, dir string) *plan.Plan {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "plan.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := plan.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTextGolden(t *testing.T) {
	for _, dir := range scenarios(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Text(&buf, readPlan(t, dir), Options{}); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(buf.String(), "\x1b[") {
				t.Error("colour codes in plain output")
			}
			golden.Check(t, filepath.Join(dir, "plan.golden.txt"), buf.Bytes())
		})
	}
}

func TestTextColour(t *testing.T) {
	p := readPlan(t, "../plan/testdata/scenarios/removal-delete")
	var buf bytes.Buffer
	if err := Text(&buf, p, Options{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\x1b[31m-\x1b[0m group legacy") {
		t.Errorf("deletion not marked in red:\n%s", buf.String())
	}
}

func TestTextCapsMembers(t *testing.T) {
	p := readPlan(t, "../plan/testdata/scenarios/memberships")
	var buf bytes.Buffer
	if err := Text(&buf, p, Options{MaxMembers: 2}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "... and 3 more") {
		t.Errorf("members not capped:\n%s", buf.String())
	}
}

// TestTextEscapesControlCharacters checks that identity data cannot drive the terminal of
// a reviewer: an escape sequence in a name could otherwise recolour or erase a line of the
// plan, and a bidirectional override could reorder it.
func TestTextEscapesControlCharacters(t *testing.T) {
	evil := "mallory\x1b[2K\x1b[1A@example.com\u202e"
	p := &plan.Plan{
		Changes: []plan.Change{
			{Action: plan.Deactivate, Kind: model.KindUser, Key: evil, Reason: "not declared \x1b[8m"},
			{Action: plan.AddMembers, Kind: model.KindGroup, Key: "g", Members: []plan.Member{{Kind: model.KindUser, Key: evil}}},
		},
		Warnings: []string{"warning \x07\x1b]0;title\x07"},
	}
	p.Summary.ByAction = map[plan.Action]int{plan.Deactivate: 1, plan.AddMembers: 1}
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		if err := Text(&buf, p, Options{Color: color}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, r := range out {
			if (r < 0x20 && r != '\n' && r != 0x1b) || r == 0x202e || r == 0x07 {
				t.Fatalf("output holds control character %U:\n%q", r, out)
			}
		}
		if strings.Contains(out, "\x1b[2K") || strings.Contains(out, "\x1b[8m") || strings.Contains(out, "\x1b]0;") {
			t.Errorf("an escape sequence from identity data reached the output:\n%q", out)
		}
		if !strings.Contains(out, `mallory\u001b[2K\u001b[1A@example.com\u202e`) {
			t.Errorf("the name is not shown with visible escapes:\n%s", out)
		}
	}
}

// TestTextEscapesInvisibleCharacters: two group names that differ only by a zero-width
// character, a joiner or a byte-order mark do not look the same in a plan.
func TestTextEscapesInvisibleCharacters(t *testing.T) {
	hidden := "platform\u200b-admins\u200d\ufeff"
	p := &plan.Plan{Changes: []plan.Change{
		{Action: plan.Create, Kind: model.KindGroup, Key: "platform-admins"},
		{Action: plan.Create, Kind: model.KindGroup, Key: hidden},
	}}
	p.Summary.ByAction = map[plan.Action]int{plan.Create: 2}
	var text, md bytes.Buffer
	if err := Text(&text, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if strings.Contains(out, hidden) || strings.ContainsAny(out, "\u200d\ufeff") {
			t.Errorf("%s: the invisible characters reached the output:\n%q", name, out)
		}
		if !strings.Contains(out, `platform\u200b-admins\u200d\ufeff`) {
			t.Errorf("%s: the name is not shown with visible escapes:\n%s", name, out)
		}
	}
}

// TestApplyTextSaysNotRun checks that the summary of an interrupted apply reads as words:
// "not run", not the JSON value "not-run".
func TestApplyTextSaysNotRun(t *testing.T) {
	c := &plan.Change{Action: plan.Deactivate, Kind: model.KindUser, Key: "a@example.com"}
	r := &plan.Result{Changes: []plan.ChangeResult{{Change: c, Status: plan.StatusOK}, {Change: c, Status: plan.StatusNotRun}, {Change: c, Status: plan.StatusNotRun}}, OK: 1, NotRun: 2, Stopped: true}
	var buf bytes.Buffer
	if err := ApplyText(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if want := "Apply incomplete: 1 ok, 2 not run. Stopped by interrupt.\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}
