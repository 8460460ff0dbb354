// Command bench measures how fast scimsync reconciles synthetic organisations against the
// in-process emulator, and how much CPU and memory planning costs, so that the figures in
// BENCHMARKS.md can be reproduced with one command:
//
//	go run ./bench -size M -scenario all -rate 25 -latency 50ms -out results.json
//
// For every scenario (initial apply into an empty account, a no-op plan, 1% churn, and
// deprovisioning 5% of the users with the removal guard overridden) it reports the API
// calls by verb, the lower bound the rate limit sets (calls / rate), the wall time and
// their ratio, the 429s and retries, the CPU time and peak heap of the Diff step, and the
// calls a tool that makes one call per resource would need for the same work. Size L is
// measured offline only: planning from generated desired and live states, no API calls.
//
// Bench exits with status 1 when a scenario fails (a change fails, a plan is not empty
// after apply, a no-op plan is not empty) and 2 on a usage error. It never judges wall
// times: they depend on the machine.
//
// Package main imports emulator, model, plan, policy, scim (and scim/auth) and synth, and
// is imported by nothing.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
