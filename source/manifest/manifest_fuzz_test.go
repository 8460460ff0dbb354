package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that any manifest content parses without panicking, that every
// problem is reported at the file, and that a manifest without errors yields a normalised
// state whose users all have a userName.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"../../examples/org/identities/*.yaml", "../../examples/org/identities/*/*.yaml", "../../examples/invalid/*/*.yaml"} {
		seeds, _ := filepath.Glob(pattern)
		for _, s := range seeds {
			if data, err := os.ReadFile(s); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\nusers: *b\n"))
	f.Add([]byte("users:\n  - userName: ada@example.com\n    groups: [g]\ngroups:\n  - displayName: g\n    previously: [h]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, diags := Parse(data, "m.yaml")
		for _, d := range diags {
			if d.Origin.File != "m.yaml" {
				t.Fatalf("diagnostic %q is not at the file", d)
			}
		}
		if s == nil || diags.HasErrors() {
			return
		}
		for _, u := range s.Users {
			if u.Key() == "" {
				t.Fatalf("a manifest without errors declares a user without userName: %+v", u)
			}
		}
	})
}
