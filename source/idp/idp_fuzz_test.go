package idp

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/scimsync/scimsync/config"
)

// FuzzRead checks that any export, read with each provider's preset, reads without
// panicking, reports every problem at the file or the source, and never yields an empty
// set of users without an error: an empty or broken export must not become mass removals.
func FuzzRead(f *testing.F) {
	kinds := make([]string, 0, len(Presets))
	for k := range Presets {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	seeds, _ := filepath.Glob("testdata/*/*.csv")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			continue
		}
		for i, k := range kinds {
			if k == filepath.Base(filepath.Dir(s)) {
				f.Add(uint8(i), data)
			}
		}
	}
	f.Add(uint8(0), []byte("userPrincipalName,displayName,accountEnabled\nada@example.com,Ada,True\n"))
	f.Add(uint8(1), []byte("login,status\nada@example.com,SUSPENDED\n"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		path := filepath.Join(t.TempDir(), "export.csv")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		kind := kinds[int(which)%len(kinds)]
		s, diags := Read(context.Background(), config.Source{Kind: kind, Paths: []string{path}})
		for _, d := range diags {
			if d.Origin.File != "" && d.Origin.File != path {
				t.Fatalf("diagnostic %q is not at the export", d)
			}
		}
		if s == nil || s.State == nil {
			t.Fatal("Read returned no state")
		}
		if !diags.HasErrors() && len(s.State.Users) == 0 && len(s.EmptyFiles) == 0 {
			t.Fatalf("a %s export yielded no users and was not recorded as empty", kind)
		}
	})
}
