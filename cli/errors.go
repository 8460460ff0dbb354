package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/alecthomas/kong"

	"github.com/scimsync/scimsync/diag"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // any error: usage, validation, stale plan, guard tripped, API failure
	// ExitChanges means success with changes or drift present (plan --detailed-exitcode,
	// drift). It is never used for an error.
	ExitChanges = 2
)

// Error is an error with a hint: one line telling the user what to do about it.
type Error struct {
	Err  error
	Hint string
}

// Error returns the message of the wrapped error.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// hinter is satisfied by errors of other packages that carry a hint for the user, such as
// a stale plan or a tripped guard, without their packages importing this one.
type hinter interface{ Hint() string }

// exitStatus is returned by a command that has already written its outcome (a validation
// report, a plan with changes) and only needs Main to exit with the code.
type exitStatus int

// Error describes the status; Main never prints it.
func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// report writes an error and its hint to w and returns the exit code. It is the one place
// where errors become exit codes.
func report(w io.Writer, err error) int { return reportTo(w, err, nil) }

// reportTo is report that also writes the error as GitHub annotations with a, unless a is
// nil.
func reportTo(w io.Writer, err error, a *annotator) int {
	var status exitStatus
	if errors.As(err, &status) {
		return int(status)
	}
	var diags *diag.Errors
	if errors.As(err, &diags) {
		for _, d := range diags.List {
			fmt.Fprintln(w, d)
		}
		fmt.Fprintln(w, summary(diags.List))
		a.diagnostics(diags.List)
		return ExitError
	}
	err = rootCause(err)
	hint := ""
	var withHint hinter
	var parseErr *kong.ParseError
	switch {
	case errors.As(err, &parseErr):
		hint = usageHint(err)
	case errors.Is(err, context.Canceled):
		err = errors.New("interrupted")
	}
	var e *Error
	if errors.As(err, &e) && e.Hint != "" {
		hint = e.Hint
	} else if errors.As(err, &withHint) {
		hint = withHint.Hint()
	}
	fmt.Fprintf(w, "error: %v\n", err)
	if hint != "" {
		fmt.Fprintf(w, "hint: %s\n", hint)
	}
	a.failure(err, hint)
	return ExitError
}
