// Command scimsync keeps the identities of a Databricks account or workspace equal to what
// a Git repository declares. Everything but process setup lives in package cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/scimsync/scimsync/cli"
)

func main() {
	interrupts := make(chan os.Signal, 2)
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	code := cli.Main(context.Background(), os.Args[1:], cli.IO{
		In:            os.Stdin,
		Out:           os.Stdout,
		Err:           os.Stderr,
		OutIsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
		ErrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		Getenv:        os.Getenv,
		Interrupts:    interrupts,
	})
	os.Exit(code)
}
