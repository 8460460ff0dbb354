//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoadRefusesSpecialFiles: a FIFO as the config is refused at once instead of
// blocking until someone writes to it.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "scimsync.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	for _, p := range []string{fifo, os.DevNull, t.TempDir()} {
		cfg, diags := Load(p)
		if cfg != nil || len(diags) != 1 || diags[0].Rule != RuleRead || !strings.Contains(diags[0].Message, "not a regular file") {
			t.Errorf("Load(%s) = %v, %v; want one read error", p, cfg, diags)
		}
	}
}
