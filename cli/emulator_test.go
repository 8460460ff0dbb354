package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/emulator"
)

// TestEmulatorFlags: the fault and behaviour flags reach the emulator's options, and bad
// names are refused.
func TestEmulatorFlags(t *testing.T) {
	c := EmulatorCmd{
		Level: "account", RateLimit: 25, Lenient: true, Seed: 7,
		Unknown:       []string{"create-200", "remove-absent-fails"},
		Fault:         map[string]float64{"write-drop": 0.1, "429-retry-after": 0.2},
		Visibility:    map[string]time.Duration{"Users": 3 * time.Second},
		VerbRate:      map[string]float64{"PATCH": 2},
		MaxConcurrent: 4, RepeatPastEnd: true, TotalOffset: 5, SlowCommit: time.Second,
	}
	o, err := c.options()
	if err != nil {
		t.Fatal(err)
	}
	want := emulator.Faults{RateWriteDrop: 0.1, Rate429RetryAfter: 0.2}
	if diff := cmp.Diff(want, o.Faults); diff != "" {
		t.Errorf("faults (-want +got):\n%s", diff)
	}
	if !o.Lenient || o.Seed != 7 || o.CreateStatus != 200 || !o.RemoveAbsentFails || o.VisibilityDelay["Users"] != 3*time.Second ||
		o.VerbRateLimits["PATCH"] != 2 || o.MaxConcurrent != 4 || !o.RepeatPastEnd || o.TotalResultsOffset != 5 || o.SlowCommit != time.Second {
		t.Errorf("options %+v", o)
	}
	for _, bad := range []EmulatorCmd{
		{Unknown: []string{"nonsense"}},
		{Fault: map[string]float64{"teapot": 0.1}},
		{Fault: map[string]float64{"503": 1.5}},
		{Visibility: map[string]time.Duration{"Widgets": time.Second}},
	} {
		if _, err := bad.options(); err == nil || !strings.Contains(err.Error(), "--") {
			t.Errorf("%+v: err %v", bad, err)
		}
	}
}
