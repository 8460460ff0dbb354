package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/synth"
)

var variantSeeds = flag.Int("variant-seeds", 0, "seeds per variant of TestVariantMatrix (default 2, or $SCIMSYNC_VARIANT_SEEDS)")

// seedsPerVariant is the number of seeds each variant runs: 2 by default, so that the whole
// matrix stays within a few tens of seconds on two cores; -variant-seeds or
// SCIMSYNC_VARIANT_SEEDS ask for more.
func seedsPerVariant() int {
	if *variantSeeds > 0 {
		return *variantSeeds
	}
	if n, err := strconv.Atoi(os.Getenv("SCIMSYNC_VARIANT_SEEDS")); err == nil && n > 0 {
		return n
	}
	return 2
}

// variant is one emulator setting the convergence suite runs against.
type variant struct {
	name string
	opts func(*emulator.Options)
	// tune adjusts the client (a timeout shorter than slow commits).
	tune func(*scim.Config)
	// settle is how long new objects stay hidden: the check waits it out before the
	// final plan.
	settle time.Duration
}

// variants are the convergence suite's settings: strict mode as it is by default and
// lenient, each UNKNOWN of the reference on its non-default side (emulator.Unknowns; the
// default side is TestConvergenceAgainstEmulator), and each fault profile.
func variants() []variant {
	vs := []variant{
		{name: "default", opts: func(*emulator.Options) {}},
		{name: "lenient", opts: func(o *emulator.Options) { o.Lenient = true }},
	}
	for _, u := range emulator.Unknowns {
		vs = append(vs, variant{name: "unknown/" + u.Name, opts: u.Set})
	}
	faults := func(name string, rate float64) func(*emulator.Options) {
		return func(o *emulator.Options) {
			if err := o.Faults.Set(name, rate); err != nil {
				panic(err)
			}
		}
	}
	return append(vs,
		variant{name: "fault/write-drop", opts: faults(emulator.FaultWriteDrop, 0.15)},
		variant{name: "fault/create-drop", opts: faults(emulator.FaultCreateDrop, 0.3)},
		variant{name: "fault/commit-503", opts: faults(emulator.FaultCommit503, 0.15)},
		variant{name: "fault/commit-504", opts: faults(emulator.FaultCommit504, 0.15)},
		variant{name: "fault/slow-commit", opts: func(o *emulator.Options) {
			o.Faults.RateSlowCommit, o.SlowCommit = 0.1, 300*time.Millisecond
		}, tune: func(c *scim.Config) { c.Timeout = 100 * time.Millisecond }},
		variant{name: "fault/gateway-html", opts: faults(emulator.FaultGateway, 0.15)},
		variant{name: "fault/truncate", opts: faults(emulator.FaultTruncate, 0.15)},
		variant{name: "fault/reset", opts: faults(emulator.FaultReset, 0.1)},
		variant{name: "fault/503-and-limit-500", opts: func(o *emulator.Options) { o.Faults.Rate503, o.Faults.RateLimit500 = 0.1, 0.1 }},
		variant{name: "fault/429-with-and-without-retry-after", opts: func(o *emulator.Options) { o.Faults.Rate429, o.Faults.Rate429RetryAfter = 0.1, 0.02 }},
		variant{name: "fault/concurrency-4", opts: func(o *emulator.Options) { o.MaxConcurrent = 4 }},
		variant{name: "fault/verb-buckets", opts: func(o *emulator.Options) {
			o.RateLimit, o.VerbRateLimits, o.RetryAfter = 200, map[string]float64{"PATCH": 20, "POST": 20, "PUT": 20, "DELETE": 20}, true
		}},
		variant{name: "fault/repeat-past-end-small-pages", opts: func(o *emulator.Options) { o.RepeatPastEnd, o.MaxPageSize = true, 3 }},
		variant{name: "fault/visibility-delay", opts: func(o *emulator.Options) {
			d := 150 * time.Millisecond
			o.VisibilityDelay = map[string]time.Duration{"Users": d, "Groups": d, "ServicePrincipals": d}
			o.Faults.RateCreateDrop = 0.3
		}, settle: 150 * time.Millisecond},
		variant{name: "fault/replays-with-remove-absent-fails", opts: func(o *emulator.Options) {
			o.RemoveAbsentFails = true
			o.Faults.RateWriteDrop, o.Faults.RateCommit504 = 0.1, 0.1
		}},
	)
}

// TestVariantMatrix runs the convergence suite (seeded desired and live states through the
// real client and planner) against every variant: the apply succeeds, the next plan is
// empty, and no identity is duplicated or lost.
func TestVariantMatrix(t *testing.T) {
	seeds := seedsPerVariant()
	for vi, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			injected, faulty := 0, false
			defer func() {
				if faulty && injected == 0 && !t.Failed() {
					t.Errorf("no fault was injected over %d seeds: the variant proves nothing", seeds)
				}
			}()
			for i := range seeds {
				seed := uint64(1000*vi + i)
				level := model.LevelAccount
				if i%2 == 1 {
					level = model.LevelWorkspace
				}
				t.Run(fmt.Sprintf("%s-%d", level, seed), func(t *testing.T) {
					desired, live := synth.Pair(seed, level)
					opts := emulator.Options{Seed: int64(seed)}
					v.opts(&opts)
					var tune []func(*scim.Config)
					if v.tune != nil {
						tune = append(tune, v.tune)
					}
					s := newStack(t, level, opts, tune...)
					faults := s.srv.Options().Faults
					faulty = faulty || faults != (emulator.Faults{})
					s.srv.SetFaults(emulator.Faults{})
					if _, err := s.srv.Seed(live); err != nil {
						t.Fatalf("seed: %v", err)
					}
					s.srv.SetFaults(faults)
					p := s.plan(t, desired)
					res, err := plan.Apply(context.Background(), p, s.client, plan.ApplyOptions{Target: s.target, BatchSize: 3})
					if err != nil {
						t.Fatal(err)
					}
					if err := res.Err(); err != nil {
						t.Fatalf("apply: %v\nplan: %v", err, describe(p))
					}
					time.Sleep(v.settle)
					if again := s.plan(t, desired); !again.Empty() {
						t.Fatalf("not converged, left: %v\nfirst plan: %v", describe(again), describe(p))
					}
					injected += s.srv.Counters().FaultsInjected
					st := s.srv.State()
					assertNoDuplicates(t, st)
					assertNoneLost(t, desired, st)
				})
			}
		})
	}
}

// TestLyingTotalResultsIsAnError: a server whose totalResults counts more than it sends
// makes the plan fail with the reason, never plan against a partial account.
func TestLyingTotalResultsIsAnError(t *testing.T) {
	s := newStack(t, model.LevelAccount, emulator.Options{TotalResultsOffset: 3})
	_, err := s.client.Snapshot(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "the list is incomplete") {
		t.Fatalf("err = %v", err)
	}
}
