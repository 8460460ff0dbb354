// Package golden compares what a test produced with a golden file, and rewrites golden
// files from the current output when the tests run with -update. Every package's tests
// use it, so that one flag and one message serve them all:
//
//	go test ./plan ./render -update
//
// then review the difference with git diff.
//
// Package golden is for tests only; it imports nothing of the project.
package golden

import (
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files (and testscripts) with the current output")

// Update reports whether the tests run with -update, rewriting golden files.
func Update() bool { return *update }

// Check compares got with the golden file at path and reports a difference as a test
// error, or, under -update, rewrites the file with got.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", path, diff)
	}
}
