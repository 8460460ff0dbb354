package cli

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/internal/golden"
)

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
		UpdateScripts:       golden.Update(),
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			// Every script gets a Databricks account of its own: an emulator on loopback,
			// unthrottled, whose token owner is the example organisation's break-glass
			// admin. The DATABRICKS_* variables point the command line at it.
			// Its workspaces have the hosts examples/org declares, which
			// SCIMSYNC_HOST_OVERRIDES sends to the emulator.
			emu := orgEmulator(emulator.Options{RateLimit: -1})
			srv := httptest.NewServer(emu)
			env.Defer(srv.Close)
			env.Setenv("SCIMSYNC_HOST_OVERRIDES", orgHostOverrides(emu, srv.URL))
			env.Setenv("DATABRICKS_HOST", srv.URL)
			env.Setenv("DATABRICKS_ACCOUNT_ID", emulator.DefaultAccountID)
			env.Setenv("DATABRICKS_CLIENT_ID", emulator.DefaultClientID)
			env.Setenv("DATABRICKS_CLIENT_SECRET", emulator.DefaultClientSecret)
			env.Setenv("EMULATOR_URL", srv.URL)
			env.Setenv("EMULATOR_HOSTPORT", strings.TrimPrefix(srv.URL, "http://"))
			return nil
		},
	})
}
