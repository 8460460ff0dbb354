package zzprof

import (
	"context"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/cli"
)

func TestProf(t *testing.T) {
	args := strings.Fields(os.Getenv("PROF_ARGS"))
	f, _ := os.Create(os.Getenv("PROF_OUT"))
	pprof.StartCPUProfile(f)
	code := cli.Main(context.Background(), args, cli.IO{Out: io.Discard, Err: os.Stderr, Getenv: os.Getenv})
	pprof.StopCPUProfile()
	f.Close()
	t.Log("exit", code)
}
