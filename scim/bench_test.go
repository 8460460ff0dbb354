package scim_test

import (
	"testing"
	"time"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/scim/auth"
)

// benchmarkSnapshot seeds an emulator and reports the calls and the wall time of one
// snapshot, against calls/rate, the least time the rate limit allows.
func benchmarkSnapshot(b *testing.B, level model.Level, users, groups int, rateLimit float64) {
	emu := emulator.NewTestServer(b, emulator.Options{Level: level, RateLimit: -1, MaxPrincipals: -1, MaxGroups: -1})
	if _, err := emu.Seed(seedState(level, users, groups)); err != nil {
		b.Fatal(err)
	}
	var ws []model.Workspace
	if level == model.LevelAccount {
		for _, id := range emu.Options().Workspaces {
			ws = append(ws, model.Workspace{ID: id})
		}
	}
	b.ResetTimer()
	for range b.N {
		c, err := scim.New(scim.Config{
			Auth: auth.Settings{Host: emu.URL, Level: level, AccountID: emulator.DefaultAccountID,
				Token: auth.NewSecret(emulator.DefaultToken)},
			RateLimit: rateLimit,
		})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := c.Snapshot(ctx, ws); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		calls := c.Stats().Total()
		b.ReportMetric(float64(calls), "calls/op")
		if rateLimit <= scim.DefaultRateLimit {
			b.ReportMetric(elapsed.Seconds()/(float64(calls)/rateLimit), "wall/limit")
		}
	}
}

func BenchmarkSnapshotAccount1000Users50Groups(b *testing.B) {
	benchmarkSnapshot(b, model.LevelAccount, 1000, 50, scim.DefaultRateLimit)
}

func BenchmarkSnapshotWorkspace1000Users50Groups(b *testing.B) {
	benchmarkSnapshot(b, model.LevelWorkspace, 1000, 50, scim.DefaultRateLimit)
}

func BenchmarkSnapshotAccount10000Users1000GroupsUnthrottled(b *testing.B) {
	benchmarkSnapshot(b, model.LevelAccount, 10000, 1000, 100000)
}
