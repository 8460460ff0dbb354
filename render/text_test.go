package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimsync/scimsync/plan"
)

var update = flag.Bool("update", false, "rewrite golden files")

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

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./render -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
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
			golden(t, filepath.Join(dir, "plan.golden.txt"), buf.Bytes())
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
