package csvmanifest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/scimsync/scimsync/config"
)

// FuzzRead checks that any users.csv, groups.csv and memberships.csv read without
// panicking, and that every problem is reported at one of the files (or at the source).
// (That an empty manifest never passes silently is source.Load's guard, tested there.)
func FuzzRead(f *testing.F) {
	read := func(dir, name string) []byte {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		return data
	}
	dirs, _ := filepath.Glob("testdata/*")
	for _, d := range dirs {
		if info, err := os.Stat(d); err == nil && info.IsDir() {
			f.Add(read(d, "users.csv"), read(d, "groups.csv"), read(d, "memberships.csv"))
		}
	}
	f.Add([]byte("userName,groups\nada@example.com,a;b\n"), []byte("displayName\na\nb\n"), []byte("group,memberType,member\na,group,b\n"))
	f.Add([]byte("userName\n=HYPERLINK(\"x\")@example.com\n"), []byte(nil), []byte(nil))
	f.Fuzz(func(t *testing.T, users, groups, memberships []byte) {
		dir := t.TempDir()
		for name, data := range map[string][]byte{"users.csv": users, "groups.csv": groups, "memberships.csv": memberships} {
			if data == nil {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		res, diags := Read(context.Background(), config.Source{Kind: config.SourceCSV, Paths: []string{dir}})
		for _, d := range diags {
			if d.Origin.File != "" && filepath.Dir(d.Origin.File) != dir {
				t.Fatalf("diagnostic %q is not at a file of the manifest", d)
			}
		}
		if res == nil || res.State == nil {
			t.Fatal("Read returned no state")
		}

	})
}
