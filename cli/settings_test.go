package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestAbsurdTuningRefused: rate limits and concurrency outside the bounds are refused
// before any connection, from the flag and from its environment variable.
func TestAbsurdTuningRefused(t *testing.T) {
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"tiny rate flag":       {args: []string{"plan", "--rate-limit", "0.0001", "m.yaml"}, want: "--rate-limit 0.0001 is outside 1 to 10000"},
		"huge rate flag":       {args: []string{"plan", "--rate-limit", "1e9", "m.yaml"}, want: "--rate-limit 1e+09 is outside 1 to 10000"},
		"tiny rate env":        {args: []string{"apply", "--auto-approve", "m.yaml"}, env: map[string]string{"SCIMSYNC_RATE_LIMIT": "0.0001"}, want: "--rate-limit 0.0001 is outside"},
		"negative concurrency": {args: []string{"drift", "--concurrency=-3", "m.yaml"}, want: "--concurrency -3 is outside 1 to 64"},
		"huge concurrency":     {args: []string{"export", "--concurrency", "100000"}, want: "--concurrency 100000 is outside 1 to 64"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			writeFile(t, "m.yaml", "users: [{userName: ada@example.com}]\n")
			env := map[string]string{"DATABRICKS_HOST": "https://127.0.0.1:1", "DATABRICKS_TOKEN": "dapi-x-123456", "DATABRICKS_ACCOUNT_ID": "a"}
			for k, v := range c.env {
				env[k] = v
			}
			var out, errOut bytes.Buffer
			code := Main(context.Background(), c.args, IO{Out: &out, Err: &errOut, Getenv: func(k string) string { return env[k] }})
			if code != ExitError || !strings.Contains(errOut.String(), c.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, errOut.String(), c.want)
			}
		})
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPanicBecomesError: a panic in a command is reported like any error, exit 1 with a
// message and a hint, never Go's exit 2 (which means changes are present).
func TestPanicBecomesError(t *testing.T) {
	var errOut bytes.Buffer
	rt := &Runtime{IO: IO{Err: &errOut}, Log: newLogger("warn", "text", &errOut)}
	err := recovered(rt, func() error {
		var m map[string]int
		m["x"]++ // a nil map: panics
		return nil
	})
	if code := report(&errOut, err); code != ExitError {
		t.Errorf("exit code %d, want %d", code, ExitError)
	}
	if !strings.Contains(errOut.String(), "error: internal error: assignment to entry in nil map") || !strings.Contains(errOut.String(), "hint: this is a bug in scimsync") {
		t.Errorf("output:\n%s", errOut.String())
	}
	if err := recovered(rt, func() error { return nil }); err != nil {
		t.Errorf("no panic: err = %v", err)
	}
}
