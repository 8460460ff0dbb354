package cli

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/scim"
)

func TestProgressLines(t *testing.T) {
	start := time.Unix(0, 0)
	got := readLine("reading the live state", start, start.Add(65*time.Second),
		scim.ReadProgress{Listed: 10100, MembersRead: 1000, MembersToRead: 5000}, 1200, 25)
	want := "scimsync: reading the live state: 10100 objects listed, members of 1000/5000 groups read, 1200 requests, 25.0 requests/s, 1m5s elapsed, ETA 2m40s"
	if got != want {
		t.Errorf("read line\n got %q\nwant %q", got, want)
	}
	got = readLine("reading the live state", start, start.Add(5*time.Second), scim.ReadProgress{Listed: 3}, 2, 0.4)
	if want := "scimsync: reading the live state: 3 objects listed, 2 requests, 0.4 requests/s, 5s elapsed"; got != want {
		t.Errorf("read line without member reads\n got %q\nwant %q", got, want)
	}
	got = applyLine(start, start.Add(30*time.Second), 250, 1000, 300, 10)
	if want := "scimsync: applying: 250/1000 changes, 300 requests, 10.0 requests/s, 30s elapsed, ETA 1m30s"; got != want {
		t.Errorf("apply line\n got %q\nwant %q", got, want)
	}
}

// TestTickerPrintsAtEachTick checks that the ticker writes one whole line per tick and
// nothing once stopped.
func TestTickerPrintsAtEachTick(t *testing.T) {
	var out lockedBuffer
	ticks := make(chan time.Time)
	n := 0
	tk := startTicker(&out, ticks, func(time.Time) string { n++; return "line" })
	ticks <- time.Now()
	ticks <- time.Now()
	tk.Stop()
	if got := out.String(); got != "line\nline\n" || n != 2 {
		t.Errorf("after two ticks: %q (%d calls)", got, n)
	}
	select {
	case ticks <- time.Now():
		t.Error("a stopped ticker still receives ticks")
	default:
	}
}

// TestProgressOffTerminal runs plan and apply against an emulator slow enough for a few
// progress lines at a 1ms interval: stderr that is not a terminal gets lines of the read
// and of the apply; a terminal gets none of them (it has the bar).
func TestProgressOffTerminal(t *testing.T) {
	emu := orgEmulator(emulator.Options{RateLimit: -1, Latency: 20 * time.Millisecond})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	vars := map[string]string{
		"SCIMSYNC_HOST_OVERRIDES":  orgHostOverrides(emu, srv.URL),
		"DATABRICKS_HOST":          srv.URL,
		"DATABRICKS_ACCOUNT_ID":    emulator.DefaultAccountID,
		"DATABRICKS_CLIENT_ID":     emulator.DefaultClientID,
		"DATABRICKS_CLIENT_SECRET": emulator.DefaultClientSecret,
		"SCIMSYNC_RATE_LIMIT":      "1000",
	}
	cfg := filepath.Join("..", "examples", "org", "scimsync.yaml")
	for _, terminal := range []bool{false, true} {
		var out, errOut lockedBuffer
		stdio := IO{Out: &out, Err: &errOut, ErrIsTerminal: terminal, Getenv: env(vars)}
		plan := filepath.Join(t.TempDir(), "plan.json")
		if code := Main(context.Background(), []string{"--progress-interval", "1ms", "plan", "-c", cfg, "-o", plan}, stdio); code != 0 {
			t.Fatalf("plan: exit %d\n%s", code, errOut.String())
		}
		if code := Main(context.Background(), []string{"--progress-interval", "1ms", "apply", "-c", cfg, plan}, stdio); code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, errOut.String())
		}
		for _, want := range []string{"scimsync: reading the live state: ", "scimsync: checking the plan against the live state: ", "scimsync: applying: "} {
			if got := strings.Contains(errOut.String(), want); got == terminal {
				t.Errorf("terminal %v: stderr has %q: %v\n%s", terminal, want, got, errOut.String())
			}
		}
		if terminal {
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(errOut.String()), "\n") {
			if !strings.HasPrefix(line, "scimsync: ") || !strings.Contains(line, "requests/s") {
				t.Errorf("not a progress line: %q", line)
			}
		}
	}
}
