package cli

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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

// TestWriteFileAtomicTempFiles: the temporary file of a write is named as disposable,
// and one that a killed run left behind (older than a minute) is removed by the next
// write of the same file, while a fresh one (a write in progress) and other files stay.
func TestWriteFileAtomicTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	old := time.Now().Add(-2 * staleTemp)
	stale := filepath.Join(dir, ".plan.json.123456"+tempSuffix)
	fresh := filepath.Join(dir, ".plan.json.654321"+tempSuffix)
	other := filepath.Join(dir, ".other.json.111111"+tempSuffix)
	for _, f := range []string{stale, fresh, other} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{stale, other} {
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	var during []string
	err := writeFileAtomic(nil, path, func(w io.Writer) error {
		_, err := io.WriteString(w, "{}\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		during = append(during, e.Name())
	}
	want := []string{".other.json.111111" + tempSuffix, ".plan.json.654321" + tempSuffix, "plan.json"}
	if !slices.Equal(during, want) {
		t.Errorf("directory holds %q, want %q", during, want)
	}
}

// TestWriteFileAtomicTempName: no file is made before the content is ready, so a run
// killed while it encodes leaves nothing behind.
func TestWriteFileAtomicTempName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	if err := writeFileAtomic(nil, path, func(w io.Writer) error {
		// The content is produced before any file is made.
		entries, _ := os.ReadDir(dir)
		if len(entries) != 0 {
			t.Errorf("a file exists before the content is ready: %v", entries)
		}
		_, err := io.WriteString(w, "{}\n")
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
