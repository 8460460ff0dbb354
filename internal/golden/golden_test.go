package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records the failures Check reports instead of failing
// the test; everything else goes to the real test.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed = true }

func TestCheck(t *testing.T) {
	if Update() {
		t.Skip("rewrites instead of comparing under -update")
	}
	path := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		path string
		got  string
		fail bool
	}{
		"equal":   {path, "same\n", false},
		"differs": {path, "other\n", true},
		"missing": {path + ".none", "same\n", true},
	} {
		r := &recorder{TB: t}
		Check(r, tt.path, []byte(tt.got))
		if r.failed != tt.fail {
			t.Errorf("%s: failed = %v, want %v", name, r.failed, tt.fail)
		}
	}
}
