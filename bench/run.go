package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/synth"
)

// Scenario names, in the order they run.
const (
	scenarioInitial     = "initial"
	scenarioNoop        = "noop"
	scenarioChurn       = "churn"
	scenarioDeprovision = "deprovision"
)

var allScenarios = []string{scenarioInitial, scenarioNoop, scenarioChurn, scenarioDeprovision}

// sizes are the organisations of issue 7. Only S and M are run against the emulator.
var sizes = map[string]synth.Spec{"S": synth.Small, "M": synth.Medium, "L": synth.Large, "MLIMIT": mAtLimit}

// mAtLimit is M with 100 fewer users: 10,000 users and service principals, Databricks'
// default identity limit, which the command line enforces (M is 100 over it, so its
// plan and drift stop at validation).
var mAtLimit = func() synth.Spec { s := synth.Medium; s.Users -= 100; return s }()

// offlineOnly lists the sizes that are too large for the emulator at the rate limit: L
// would take days at 25 requests per second.
var offlineOnly = map[string]bool{"L": true}

// Fractions of the churn and deprovisioning scenarios.
const (
	churnFraction       = 0.01
	deprovisionFraction = 0.05
)

// config holds the command line.
type config struct {
	Size        string        `json:"size"`
	Spec        synth.Spec    `json:"spec"`
	Scenarios   []string      `json:"scenarios"`
	Seed        uint64        `json:"seed"`
	Rate        float64       `json:"rate"`
	Latency     time.Duration `json:"latency"`
	Jitter      time.Duration `json:"latencyJitter"`
	InFlight    int           `json:"maxInFlight"`
	Concurrency int           `json:"concurrency"`
	BatchSize   int           `json:"batchSize"`
	Offline     bool          `json:"offline"`
	// ServerVerbLimits are per-method rate limits of the emulator (the client is not told
	// them), and RetryAfter makes its 429s carry Retry-After.
	ServerVerbLimits map[string]float64 `json:"serverVerbLimits,omitempty"`
	RetryAfter       bool               `json:"retryAfter,omitempty"`
	// cli is a scimsync binary to measure as child processes instead of the scenarios
	// (with cliScenarios, the scenarios through it); fixtures keeps their inputs in a
	// directory.
	cli          string
	cliScenarios bool
	fixtures     string
	out          string
	cpuProfile   string
}

// usageError is a bad command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func parseArgs(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{}
	var scenarios, verbLimits string
	fs.StringVar(&cfg.Size, "size", "S", "organisation size: S, M, MLIMIT (M within the default identity limits) or L (L is measured offline only)")
	fs.StringVar(&scenarios, "scenario", "all", "all, or a comma-separated list of initial, noop, churn, deprovision")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the synthetic organisation")
	fs.Float64Var(&cfg.Rate, "rate", scim.DefaultRateLimit, "requests per second, for the emulator's limit and the client's budget alike")
	fs.DurationVar(&cfg.Latency, "latency", 50*time.Millisecond, "latency the emulator adds to every request")
	fs.DurationVar(&cfg.Jitter, "jitter", 0, "uniform random latency the emulator adds on top of -latency")
	fs.IntVar(&cfg.InFlight, "inflight", 0, "the client's cap on requests in flight (0: the client's default)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 0, "changes apply runs at once (0: apply's default)")
	fs.IntVar(&cfg.BatchSize, "batch", 0, "members per membership PATCH (0: apply's default)")
	fs.BoolVar(&cfg.Offline, "offline", false, "measure planning only, without the emulator")
	fs.StringVar(&verbLimits, "server-verb-limits", "", "per-method limits of the emulator, such as PATCH=2,POST=5 (the client is not told them)")
	fs.BoolVar(&cfg.RetryAfter, "retry-after", false, "the emulator's 429s carry Retry-After")
	fs.StringVar(&cfg.cli, "cli", "", "measure this scimsync binary as child processes (validate, drift --snapshot, show, plan) instead of the scenarios")
	fs.BoolVar(&cfg.cliScenarios, "cli-scenarios", false, "with -cli, run the -scenario list through the binary instead (plan -o, then apply plan.json, against the emulator at -rate and -latency)")
	fs.StringVar(&cfg.fixtures, "fixtures", "", "with -cli, write the inputs to this directory and keep them (default: a temporary one)")
	fs.StringVar(&cfg.out, "out", "", "also write the results as JSON to this file")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the emulator scenarios (client and emulator) to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	cfg.Size = strings.ToUpper(cfg.Size)
	spec, ok := sizes[cfg.Size]
	if !ok {
		return nil, &usageError{fmt.Sprintf("-size %q: want S, M, MLIMIT or L", cfg.Size)}
	}
	cfg.Spec = spec
	if offlineOnly[cfg.Size] {
		cfg.Offline = true
	}
	if scenarios == "all" {
		cfg.Scenarios = allScenarios
	} else {
		for _, s := range strings.Split(scenarios, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(allScenarios, s) {
				return nil, &usageError{fmt.Sprintf("-scenario %q: want all or some of %s", s, strings.Join(allScenarios, ", "))}
			}
			if !slices.Contains(cfg.Scenarios, s) {
				cfg.Scenarios = append(cfg.Scenarios, s)
			}
		}
	}
	if cfg.cliScenarios && cfg.cli == "" {
		return nil, &usageError{"-cli-scenarios needs -cli BINARY"}
	}
	if cfg.Rate <= 0 {
		return nil, &usageError{"-rate must be positive"}
	}
	if verbLimits != "" {
		cfg.ServerVerbLimits = map[string]float64{}
		for _, kv := range strings.Split(verbLimits, ",") {
			m, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			r, err := strconv.ParseFloat(v, 64)
			m = strings.ToUpper(m)
			if !ok || err != nil || !(r > 0) || !slices.Contains(verbs, m) {
				return nil, &usageError{fmt.Sprintf("-server-verb-limits %q: want METHOD=rate pairs such as PATCH=2,POST=5", kv)}
			}
			cfg.ServerVerbLimits[m] = r
		}
	}
	if cfg.Latency < 0 || cfg.Jitter < 0 {
		return nil, &usageError{"-latency and -jitter must not be negative"}
	}
	return cfg, nil
}

// Results is everything one run measured; -out writes it as JSON.
type Results struct {
	Machine   Machine           `json:"machine"`
	Config    *config           `json:"config"`
	Started   time.Time         `json:"started"`
	Org       OrgSize           `json:"org"`
	Scenarios []*ScenarioResult `json:"scenarios,omitempty"`
	Offline   []*PlanningResult `json:"offlinePlanning"`
	CLI       []*CLIResult      `json:"cli,omitempty"`
	// FixtureBytes are the sizes of the -cli inputs, by name.
	FixtureBytes map[string]int64 `json:"fixtureBytes,omitempty"`
	Failures     []string         `json:"failures,omitempty"`
}

// Main runs the benchmark with args (without the program name) and returns the exit
// status: 0 when every scenario succeeded, 1 when one failed, 2 on a usage error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if os.Getenv(childEnv) != "" {
		return childMain(ctx, args, stdout, stderr)
	}
	if os.Getenv(launcherEnv) != "" {
		return launcherMain(ctx, args, stdout, stderr)
	}
	cfg, err := parseArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	res, err := run(ctx, cfg, stderr)
	if res != nil {
		writeReport(stdout, res)
		if cfg.out != "" {
			if werr := writeJSON(cfg.out, res); werr != nil {
				fmt.Fprintln(stderr, "bench:", werr)
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if len(res.Failures) > 0 {
		for _, f := range res.Failures {
			fmt.Fprintln(stderr, "bench: FAILED:", f)
		}
		return 1
	}
	return 0
}

// run measures the offline planning of every scenario and then, unless the size is
// offline only, runs the scenarios against the emulator.
func run(ctx context.Context, cfg *config, progress io.Writer) (*Results, error) {
	res := &Results{Machine: describeMachine(), Config: cfg, Started: time.Now().UTC()}
	if cfg.cli != "" && cfg.cliScenarios {
		runs, failures, err := measureCLIScenarios(ctx, cfg, progress)
		res.CLI, res.Failures = runs, failures
		res.Org = sizeOf(synth.Org(cfg.Seed, cfg.Spec))
		return res, err
	}
	if cfg.cli != "" {
		runs, fx, err := measureCLI(ctx, cfg, progress)
		res.CLI = runs
		if fx != nil {
			res.Org, res.FixtureBytes = sizeOf(fx.Live), fx.Bytes
		}
		return res, err
	}
	desired := synth.Org(cfg.Seed, cfg.Spec)
	res.Org = sizeOf(desired)
	desired = nil
	for _, sc := range cfg.Scenarios {
		fmt.Fprintf(progress, "bench: offline planning, size %s, %s\n", cfg.Size, sc)
		pr, err := measureOffline(ctx, cfg, sc)
		if err != nil {
			return res, fmt.Errorf("offline planning of %s: %w", sc, err)
		}
		res.Offline = append(res.Offline, pr)
	}
	if cfg.Offline {
		return res, nil
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	for _, sc := range cfg.Scenarios {
		fmt.Fprintf(progress, "bench: scenario %s, size %s, %g requests/s, latency %s\n", sc, cfg.Size, cfg.Rate, cfg.Latency)
		sr, err := runScenario(ctx, cfg, sc, progress)
		if err != nil {
			return res, fmt.Errorf("scenario %s: %w", sc, err)
		}
		res.Scenarios = append(res.Scenarios, sr)
		res.Failures = append(res.Failures, sr.Failures...)
	}
	return res, nil
}

func writeJSON(path string, res *Results) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}
