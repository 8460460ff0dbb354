//go:build unix

package source

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/config"
)

// load writes a config into dir and loads it.
func load(t *testing.T, dir, cfgText string) ([]string, int) {
	t.Helper()
	p := filepath.Join(dir, "scimsync.yaml")
	if err := os.WriteFile(p, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, problems := config.Load(p)
	if len(problems) > 0 {
		t.Fatalf("config: %v", problems)
	}
	s, diags := Load(context.Background(), cfg, nil)
	var out []string
	for _, d := range diags {
		d.Origin.File = strings.TrimPrefix(d.Origin.File, dir+string(filepath.Separator))
		out = append(out, strings.ReplaceAll(d.String(), dir+string(filepath.Separator), ""))
	}
	n := 0
	if s != nil {
		n = len(s.Users)
	}
	return out, n
}

// TestSymlinkedDirectories: a team's folder moved behind a symbolic link is still read;
// a link back up the tree is reported, never followed forever or skipped silently.
func TestSymlinkedDirectories(t *testing.T) {
	dir := files(t, map[string]string{
		"elsewhere/team-a/users.yaml": "users:\n  - userName: a@x.io\n",
		"identities/base.yaml":        "users:\n  - userName: b@x.io\n",
	})
	if err := os.Symlink(filepath.Join(dir, "elsewhere", "team-a"), filepath.Join(dir, "identities", "team-a")); err != nil {
		t.Fatal(err)
	}
	diags, users := load(t, dir, "sources:\n  - kind: yaml\n    path: identities\n")
	if len(diags) != 0 || users != 2 {
		t.Fatalf("got %d users and %v; want both users, the linked folder's included", users, diags)
	}

	if err := os.Symlink(".", filepath.Join(dir, "identities", "loop")); err != nil {
		t.Fatal(err)
	}
	diags, _ = load(t, dir, "sources:\n  - kind: yaml\n    path: identities\n")
	want := []string{"identities/loop: error: read manifests: identities/loop links back to a directory that contains it; the symbolic link cycle is not followed [read]"}
	if diff := cmp.Diff(want, diags); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

// TestFilesThatAreNotFiles: FIFOs, devices and /proc files are refused at once, whatever
// the source kind, and nothing of them reaches a message.
func TestFilesThatAreNotFiles(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	diags, _ := load(t, dir, "sources:\n  - kind: yaml\n    path: fifo.yaml\n")
	if len(diags) != 1 || !strings.Contains(diags[0], "not a regular file but a named pipe (FIFO)") || !strings.HasSuffix(diags[0], "[not-a-file]") {
		t.Errorf("FIFO manifest: %v", diags)
	}
	diags, _ = load(t, dir, "sources:\n  - kind: ldif\n    path: /dev/zero\n")
	if len(diags) != 1 || !strings.Contains(diags[0], "not a regular file but a character device") {
		t.Errorf("/dev/zero as LDIF: %v", diags)
	}

	if runtime.GOOS != "linux" {
		return
	}
	const marker = "SCIMSYNC_TEST_SECRET_77c2"
	t.Setenv("SCIMSYNC_TEST_TOKEN", marker)
	if err := os.Symlink("/proc/self/environ", filepath.Join(dir, "users.csv")); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []string{
		"sources:\n  - kind: csv\n    users: users.csv\n",
		"sources:\n  - kind: okta\n    path: /proc/self/environ\n",
	} {
		diags, _ = load(t, dir, cfg)
		if len(diags) != 1 || !strings.Contains(diags[0], "[not-a-file]") || strings.Contains(strings.Join(diags, "\n"), marker) {
			t.Errorf("%s: got %v, want one not-a-file error that reveals nothing", cfg, diags)
		}
	}
}

func TestMaxFileSize(t *testing.T) {
	dir := files(t, map[string]string{"m.yaml": "users:\n  - userName: a@x.io\n"})
	diags, _ := load(t, dir, "sources:\n  - kind: yaml\n    path: m.yaml\n    maxFileSize: 16\n")
	want := []string{"m.yaml: error: read manifest: the file is 28 bytes, more than the source's limit of 16 bytes (maxFileSize); raise maxFileSize on the source if it is really that large [file-too-large]"}
	if diff := cmp.Diff(want, diags); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if diags, users := load(t, dir, "sources:\n  - kind: yaml\n    path: m.yaml\n    maxFileSize: 28\n"); len(diags) != 0 || users != 1 {
		t.Errorf("at the limit: %v, %d users", diags, users)
	}
}
