package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/redact"
)

// TestWriteFileAtomicRefusesCredentials: a file whose content holds a known secret or a
// credential-shaped string is not written, and nothing is left behind.
func TestWriteFileAtomicRefusesCredentials(t *testing.T) {
	red := redact.New("the-client-secret")
	for name, content := range map[string]string{
		"known value": `{"displayName":"the-client-secret"}`,
		"bearer":      `{"detail":"Authorization: Bearer abcdef123"}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "plan.json")
			err := writeFileAtomic(red, path, func(w io.Writer) error { _, err := io.WriteString(w, content); return err })
			if err == nil || !strings.Contains(err.Error(), "credential") {
				t.Fatalf("err = %v; want a refusal naming a credential", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left %d files behind", len(entries))
			}
		})
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := writeFileAtomic(red, path, func(w io.Writer) error { _, err := io.WriteString(w, "{}\n"); return err }); err != nil {
		t.Fatal(err)
	}
}
