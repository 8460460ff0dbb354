package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
)

// Machine describes where a run happened.
type Machine struct {
	NumCPU     int    `json:"numCPU"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPUModel   string `json:"cpuModel"`
	MemTotal   string `json:"memTotal"`
	GoVersion  string `json:"goVersion"`
	OS         string `json:"os"`
	// LoadAverage is /proc/loadavg when the run started: other work on the machine.
	LoadAverage string `json:"loadAverage"`
}

func describeMachine() Machine {
	return Machine{
		NumCPU:      runtime.NumCPU(),
		GOMAXPROCS:  runtime.GOMAXPROCS(0),
		CPUModel:    procField("/proc/cpuinfo", "model name"),
		MemTotal:    procField("/proc/meminfo", "MemTotal"),
		GoVersion:   runtime.Version(),
		OS:          runtime.GOOS + "/" + runtime.GOARCH,
		LoadAverage: firstLine("/proc/loadavg"),
	}
}

// procField returns the value of the first "name: value" line of a /proc file, or
// "unknown".
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func firstLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

var verbs = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// writeReport prints the results as tables.
func writeReport(w io.Writer, res *Results) {
	cfg, m, o := res.Config, res.Machine, res.Org
	fmt.Fprintf(w, "scimsync bench, size %s, seed %d: %d users, %d service principals, %d groups, %d memberships (%d nested groups, depth %d), %d workspaces (%d assignments, %d entitlement sets)\n",
		cfg.Size, cfg.Seed, o.Users, o.ServicePrincipals, o.Groups, o.Memberships, o.NestedGroups, cfg.Spec.Depth, o.Workspaces, o.Assignments, o.Entitlements)
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d), %s, %s memory, %s %s, load average at start %s\n",
		m.NumCPU, m.GOMAXPROCS, m.CPUModel, m.MemTotal, m.GoVersion, m.OS, m.LoadAverage)
	if len(res.Scenarios) > 0 {
		fmt.Fprintf(w, "emulator: %g requests/s, latency %s (+ up to %s jitter); client: %g requests/s\n\n", cfg.Rate, cfg.Latency, cfg.Jitter, cfg.Rate)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "scenario\tstep\tGET\tPOST\tPUT\tPATCH\tDELETE\tcalls\tbound s\twall s\twall/bound\t429 client\t429 emulator\tretries\t")
		for _, sc := range res.Scenarios {
			for _, st := range append(append([]StepResult(nil), sc.Steps...), sc.Total) {
				fmt.Fprintf(tw, "%s\t%s\t", sc.Name, st.Step)
				for _, v := range verbs {
					fmt.Fprintf(tw, "%d\t", st.Requests[v])
				}
				fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t%.3f\t%d\t%d\t%d\t\n", st.Calls, st.LowerBoundSeconds, st.WallSeconds, st.WallOverBound, st.Client429, st.Emulator429, st.Retries)
			}
		}
		tw.Flush()
		if len(cfg.ServerVerbLimits) > 0 {
			writeVerbReport(w, res)
		}

		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "scenario\tchanges\tok\tfailed\tskipped\tnot run\tconverged\tguard\tDiff CPU s\tDiff heap MB\tscimsync calls\tper-resource calls\t(reads + writes)\tfewer\t")
		for _, sc := range res.Scenarios {
			guard := "-"
			if sc.Name == scenarioChurn || sc.Name == scenarioDeprovision {
				guard = "not tripped"
				if sc.GuardTripped {
					guard = "overridden"
				}
			}
			fewer := 0.0
			if sc.Total.Calls > 0 {
				fewer = float64(sc.PerResourceCalls()) / float64(sc.Total.Calls)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%v\t%s\t%s\t%.1f\t%d\t%d\t(%d + %d)\t%.1fx\t\n",
				sc.Name, sc.Changes, sc.OK, sc.Failed, sc.Skipped, sc.NotRun, sc.Converged, guard,
				cpu(sc.Planning), mb(sc.Planning.StepHeapBytes()), sc.Total.Calls, sc.PerResourceCalls(), sc.PerResourceReads, sc.PerResourceWrites, fewer)
		}
		tw.Flush()
	}
	if len(res.CLI) > 0 && res.CLI[0].Scenario != "" {
		fmt.Fprintf(w, "\nthe scenarios through the real binary as child processes (getrusage of each); emulator: %g requests/s, latency %s\n", cfg.Rate, cfg.Latency)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "scenario\tcommand\texit\tGET\tPOST\tPUT\tPATCH\tDELETE\trequests\t429\tCPU s\tmax RSS MB\twall s\t")
		for _, r := range res.CLI {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.1f\t%.2f\t\n", r.Scenario, r.Command, r.ExitCode,
				r.ByMethod["GET"], r.ByMethod["POST"], r.ByMethod["PUT"], r.ByMethod["PATCH"], r.ByMethod["DELETE"],
				r.Requests, r.Emulator429, r.CPUSeconds, mb(r.MaxRSSBytes), r.WallSeconds)
		}
		tw.Flush()
		for _, r := range res.CLI {
			if r.Stderr != "" {
				fmt.Fprintf(w, "%s %s: %s\n", r.Scenario, r.Command, r.Stderr)
			}
		}
	} else if len(res.CLI) > 0 {
		fmt.Fprintf(w, "\nthe real binary as child processes (getrusage of each); inputs:")
		for _, name := range []string{"manifest", "snapshot", "initial plan"} {
			fmt.Fprintf(w, " %s %.1f MB", name, mb(uint64(res.FixtureBytes[name])))
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "command\texit\tCPU s\tmax RSS MB\twall s\trequests\t")
		for _, r := range res.CLI {
			fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.1f\t%.2f\t%d\t\n", r.Command, r.ExitCode, r.CPUSeconds, mb(r.MaxRSSBytes), r.WallSeconds, r.Requests)
		}
		tw.Flush()
		for _, r := range res.CLI {
			if r.Stderr != "" {
				fmt.Fprintf(w, "%s: %s\n", r.Command, r.Stderr)
			}
		}
	}
	if len(res.Offline) > 0 {
		fmt.Fprintf(w, "\noffline planning (plan.Diff, one child process per scenario; heap = peak above the inputs)\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "scenario\tdesired objects\tlive objects\tchanges\tDiff CPU s\tDiff wall s\tDiff heap MB\tinputs heap MB\tallocated MB\tGCs\tprocess max RSS MB\t")
		for _, pr := range res.Offline {
			d := pr.Diff
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%.3f\t%.1f\t%.1f\t%.1f\t%d\t%.1f\t\n", pr.Scenario, pr.Desired.resources(), pr.Live.resources(), pr.Changes,
				cpu(d), d.WallSeconds, mb(d.StepHeapBytes()), mb(d.HeapBaseBytes), mb(d.AllocBytes), d.GCCycles, mb(pr.MaxRSSBytes))
		}
		tw.Flush()
	}
}

// writeVerbReport prints, for a run against per-method server limits, each step's calls
// by method, the per-method bound and the share of attempts that met a 429.
func writeVerbReport(w io.Writer, res *Results) {
	var limits []string
	for _, v := range verbs {
		if r, ok := res.Config.ServerVerbLimits[v]; ok {
			limits = append(limits, fmt.Sprintf("%s %g/s", v, r))
		}
	}
	retryAfter := "without"
	if res.Config.RetryAfter {
		retryAfter = "with"
	}
	fmt.Fprintf(w, "\nper-method server limits: %s (the client is not told them); 429s %s Retry-After\n", strings.Join(limits, ", "), retryAfter)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tstep\tGET\tPOST\tPUT\tPATCH\tDELETE\tper-method bound s\twall s\twall/bound\tattempts\t429\t429 %\t")
	for _, sc := range res.Scenarios {
		for _, st := range append(append([]StepResult(nil), sc.Steps...), sc.Total) {
			fmt.Fprintf(tw, "%s\t%s\t", sc.Name, st.Step)
			for _, v := range verbs {
				fmt.Fprintf(tw, "%d\t", st.VerbCalls[v])
			}
			share := 0.0
			if st.Attempts > 0 {
				share = 100 * float64(st.Client429) / float64(st.Attempts)
			}
			fmt.Fprintf(tw, "%.1f\t%.1f\t%.3f\t%d\t%d\t%.2f\t\n", st.VerbBoundSeconds, st.WallSeconds, st.WallOverVerbBound, st.Attempts, st.Client429, share)
		}
	}
	tw.Flush()
}

func cpu(c Cost) string {
	if !c.CPUMeasured {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", c.CPUSeconds)
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
