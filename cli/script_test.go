package cli

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite golden files and scripts with the current output")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"scimsync": func() {
			os.Exit(Main(context.Background(), os.Args[1:], IO{
				In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv,
			}))
		},
	})
}

// TestScripts runs the end-to-end scripts in testdata/script: each runs the scimsync
// command line in a scratch directory and checks its output and exit code. $EXAMPLES is
// the repository's examples directory.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../examples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		UpdateScripts:       *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			return nil
		},
	})
}
