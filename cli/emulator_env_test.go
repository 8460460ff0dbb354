package cli

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimsync/scimsync/emulator"
)

// syncBuffer is a buffer safe for a writer and a reader in two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestEmulatorEnvWorksAsPasted pastes what scimsync emulator prints into a shell that
// already holds another account's token, as a newcomer does, and plans the example
// organisation with it: the lines must name one authorization method and clear the rest.
func TestEmulatorEnvWorksAsPasted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	opts := emulator.Options{RateLimit: -1, MeUserName: "breakglass-admin@northwind.example", Workspaces: []string{"1234567890123456", "2345678901234567"},
		WorkspaceHosts: map[string]string{
			"1234567890123456": "https://northwind-prod.cloud.databricks.com",
			"2345678901234567": "https://northwind-ml.cloud.databricks.com",
		}}
	go func() { done <- emulator.Run(ctx, "127.0.0.1:0", opts, &out) }()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(out.String(), "# or a token") {
		select {
		case err := <-done:
			t.Fatalf("emulator: %v", err)
		case <-deadline:
			t.Fatalf("the emulator printed %q", out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	shell := map[string]string{"DATABRICKS_TOKEN": "dapi-of-another-account", "DATABRICKS_CONFIG_PROFILE": "prod", "SCIMSYNC_RATE_LIMIT": "1000"}
	for _, line := range strings.Split(out.String(), "\n") {
		switch {
		case strings.HasPrefix(line, "unset "):
			for _, k := range strings.Fields(line)[1:] {
				delete(shell, k)
			}
		case strings.HasPrefix(line, "export "):
			k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			shell[k] = v
		}
	}
	var stdout, stderr bytes.Buffer
	code := Main(ctx, []string{"plan", "-c", "../examples/org/scimsync.yaml"}, IO{Out: &stdout, Err: &stderr, Getenv: env(shell)})
	if code != 0 || !strings.Contains(stdout.String(), "Plan: 59 to create") {
		t.Errorf("plan with the pasted environment: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}
