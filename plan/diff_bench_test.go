package plan_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/policy"
	"github.com/scimsync/scimsync/synth"
)

// The benchmarks of this file measure the CPU-bound parts of planning at the sizes of
// issue 7 (synth.Medium and synth.Large), with the states bench (go run ./bench) plans:
//
//	go test ./plan -run '^$' -bench . -benchmem
//
// Size L needs about a minute of setup per benchmark and is skipped under -short.

var benchTarget = plan.TargetID{Level: model.LevelAccount, Host: "http://127.0.0.1", AccountID: "bench"}

type benchSize struct {
	name string
	spec synth.Spec
}

var benchSizes = []benchSize{{"M", synth.Medium}, {"L", synth.Large}}

func skipLarge(b *testing.B, size benchSize) {
	if size.name == "L" && testing.Short() {
		b.Skip("size L is skipped under -short")
	}
}

// liveOf returns s with distinct SCIM ids, as a snapshot returns it.
func liveOf(s *model.State) *model.State {
	n := 0
	id := func() string { n++; return strconv.Itoa(1_000_000 + n) }
	for i := range s.Users {
		s.Users[i].ID = id()
	}
	for i := range s.ServicePrincipals {
		s.ServicePrincipals[i].ID = id()
	}
	for i := range s.Groups {
		s.Groups[i].ID = id()
	}
	return s
}

// states returns the desired and live states of a scenario: initial (an empty account),
// noop (live equals desired) or churn (1% of the users changed).
func states(size benchSize, scenario string) (desired, live *model.State) {
	org := synth.Org(1, size.spec)
	switch scenario {
	case "initial":
		return org, &model.State{}
	case "noop":
		return synth.Clone(org), liveOf(org)
	}
	return synth.Churn(2, org, 0.01), liveOf(org)
}

func diff(b *testing.B, desired, live *model.State) *plan.Plan {
	p, err := plan.Diff(desired, live, policy.Default(), plan.Options{Target: benchTarget, Now: time.Unix(0, 0), OverrideGuards: true, AllowAdminRemoval: true})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkDiff(b *testing.B) {
	for _, size := range benchSizes {
		for _, scenario := range []string{"initial", "noop", "churn"} {
			b.Run(size.name+"/"+scenario, func(b *testing.B) {
				skipLarge(b, size)
				desired, live := states(size, scenario)
				b.ReportAllocs()
				b.ResetTimer()
				var p *plan.Plan
				for range b.N {
					p = diff(b, desired, live)
				}
				b.ReportMetric(float64(len(p.Changes)), "changes")
			})
		}
	}
}

// initialPlan is the largest plan of a size: everything created.
func initialPlan(b *testing.B, size benchSize) *plan.Plan {
	desired, live := states(size, "initial")
	return diff(b, desired, live)
}

func BenchmarkEncode(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			skipLarge(b, size)
			p := initialPlan(b, size)
			var buf bytes.Buffer
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				buf.Reset()
				if err := plan.Encode(&buf, p); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(buf.Len()))
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			skipLarge(b, size)
			var buf bytes.Buffer
			if err := plan.Encode(&buf, initialPlan(b, size)); err != nil {
				b.Fatal(err)
			}
			data := buf.Bytes()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := plan.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
