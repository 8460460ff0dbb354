package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzApply runs decode → verify → apply on mutated plan files against a fake target
// seeded with a scenario's live state. The mutated file's checksum is recomputed first, as
// someone who edits a plan file can do, so that mutations reach Decode's checks, Verify's
// re-checks and Execute. Whatever the input, nothing panics; Execute, which recovers from
// panics so that a bug halts an apply instead of crashing it, never reports one; and a
// plan that Verify refuses is still executed against a fresh fake, to show that Execute
// copes with any plan Decode accepts.
func FuzzApply(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/scenarios/*")
	var scenarios []string
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "plan.golden.json"))
		if err != nil {
			continue
		}
		f.Add(data, uint8(len(scenarios)))
		scenarios = append(scenarios, dir)
	}
	if len(scenarios) == 0 {
		f.Fatal("no scenario plans to seed from")
	}
	f.Add([]byte(`{"formatVersion":2,"changes":[{"action":"update","kind":"user","key":"a@example.com","id":"1000","after":{}}]}`), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		var raw Plan
		if json.Unmarshal(data, &raw) != nil {
			return
		}
		var file bytes.Buffer
		if Encode(&file, &raw) != nil {
			return
		}
		p, err := Decode(&file)
		if err != nil {
			return
		}
		dir := scenarios[int(which)%len(scenarios)]
		_, fake, _, opts := loadScenario(t, dir)
		ctx := context.Background()
		verr := VerifyWith(ctx, p, fake, opts.Target, Recheck{Policy: p.Policy})
		if verr != nil {
			_, fake, _, _ = loadScenario(t, dir)
		}
		res := Execute(ctx, p, fake, ApplyOptions{Target: opts.Target, BatchSize: 2, Concurrency: 2})
		if res.Halted != nil && strings.Contains(res.Halted.Error(), "internal error") {
			t.Fatalf("apply panicked (verify: %v): %v", verr, res.Halted)
		}
		if len(res.Changes) != len(p.Changes) {
			t.Fatalf("%d results for %d changes", len(res.Changes), len(p.Changes))
		}
	})
}
