package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimsync/scimsync/internal/golden"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
)

// scenarioConfig is a scenario's config.json.
type scenarioConfig struct {
	Level    model.Level    `json:"level"`
	Policy   *policy.Policy `json:"policy"`
	Identity *model.Ref     `json:"identity"`
	Override bool           `json:"override"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// loadScenario reads a scenario directory and seeds a fake target with its live state.
func loadScenario(t *testing.T, dir string) (*model.State, *fakeTarget, policy.Policy, Options) {
	t.Helper()
	var desired, live model.State
	var cfg scenarioConfig
	readJSON(t, filepath.Join(dir, "desired.json"), &desired)
	readJSON(t, filepath.Join(dir, "live.json"), &live)
	readJSON(t, filepath.Join(dir, "config.json"), &cfg)
	desired.Normalize()
	live.Normalize()
	if cfg.Level == "" {
		cfg.Level = model.LevelAccount
	}
	pol := policy.Default()
	if cfg.Policy != nil {
		pol = *cfg.Policy
	}
	fake := newFake(cfg.Level)
	fake.seed(&live)
	opts := Options{
		Target:         TargetID{Level: cfg.Level, Host: "https://accounts.example.test", AccountID: "acct-1"},
		ToolVersion:    "test",
		Now:            time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC),
		Identity:       cfg.Identity,
		OverrideGuards: cfg.Override,
	}
	return &desired, fake, pol, opts
}

// TestScenarios runs every directory under testdata/scenarios: desired + live + config in,
// plan JSON (and the guard error, if any) out, its changes in phase order. Each plan that is not refused is then applied
// to the fake target, and a second plan must be empty.
func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob("testdata/scenarios/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ctx := context.Background()
			desired, fake, pol, opts := loadScenario(t, dir)
			live, _ := fake.Snapshot(ctx, desired.Workspaces)
			p, err := Diff(desired, live, pol, opts)
			var buf bytes.Buffer
			if err := EncodeIndent(&buf, p); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(dir, "plan.golden.json"), buf.Bytes())
			for i := 1; i < len(p.Changes); i++ {
				if a, b := PhaseOf(&p.Changes[i-1]), PhaseOf(&p.Changes[i]); a > b {
					t.Errorf("change %d (%s) is in phase %q, after change %d in phase %q", i+1, Describe(&p.Changes[i]), b, i, a)
				}
			}
			errText := ""
			if err != nil {
				errText = err.Error() + "\n"
			}
			golden.Check(t, filepath.Join(dir, "error.golden"), []byte(errText))
			var ge *GuardError
			if errors.As(err, &ge) {
				return
			} else if err != nil {
				t.Fatal(err)
			}

			res, err := Apply(ctx, p, fake, ApplyOptions{Target: opts.Target, BatchSize: 2})
			if err != nil {
				t.Fatal(err)
			}
			if err := res.Err(); err != nil {
				t.Fatal(err)
			}
			again, _ := fake.Snapshot(ctx, desired.Workspaces)
			p2, err := Diff(desired, again, pol, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !p2.Empty() {
				t.Errorf("plan after apply is not empty: %+v", p2.Changes)
			}
		})
	}
}
