package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad checks that any config file either loads without errors or is refused with
// errors at the file, never a panic, and that a loaded config has a target level.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*/scimsync.yaml")
	more, _ := filepath.Glob("../examples/*/*/scimsync.yaml")
	for _, s := range append(seeds, more...) {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("sources:\n  - kind: yaml\n    path: [a, b]\napply: {timeout: 30s}\n"))
	f.Add([]byte("sources: &s [{kind: yaml, path: *s}]\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "scimsync.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, diags := Load(path)
		for _, d := range diags {
			if d.Origin.File != path {
				t.Fatalf("diagnostic %q is not at the file", d)
			}
		}
		if diags.HasErrors() != (cfg == nil) {
			t.Fatalf("config %v with errors %v: want exactly one", cfg != nil, diags.HasErrors())
		}
		if cfg != nil && cfg.Target.Level == "" {
			t.Fatal("a loaded config has no target level")
		}
	})
}
