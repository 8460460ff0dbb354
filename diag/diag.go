// Package diag holds diagnostics: problems found in user input, each with the place it was
// found (file:line:column, or an LDAP entry), the rule it breaks, and a message. Problems are
// collected and reported all at once, never one at a time.
//
// Package diag imports nothing from this project but model (for Origin).
package diag

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/scimsync/scimsync/model"
)

// Severity says whether a diagnostic blocks the run.
type Severity string

// The severities.
const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
)

// Diagnostic is one problem in the input.
type Diagnostic struct {
	Severity Severity     `json:"severity"`
	Origin   model.Origin `json:"origin"`
	// Rule is a short stable identifier of the broken rule, such as "duplicate-username" or
	// "schema". Tests and tools match on it.
	Rule    string `json:"rule"`
	Message string `json:"message"`
	// Related points at a second place involved, such as the first declaration of a
	// duplicate.
	Related *model.Origin `json:"related,omitempty"`
}

// String formats the diagnostic as "file:line:col: error: message [rule]".
func (d Diagnostic) String() string {
	var b strings.Builder
	if s := d.Origin.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s: %s [%s]", d.Severity, d.Message, d.Rule)
	if d.Related != nil && !d.Related.IsZero() {
		fmt.Fprintf(&b, " (see %s)", d.Related)
	}
	return b.String()
}

// List is a collection of diagnostics.
type List []Diagnostic

// Errorf appends an error diagnostic.
func (l *List) Errorf(at model.Origin, rule, format string, args ...any) {
	*l = append(*l, Diagnostic{Severity: SevError, Origin: at, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// Warnf appends a warning diagnostic.
func (l *List) Warnf(at model.Origin, rule, format string, args ...any) {
	*l = append(*l, Diagnostic{Severity: SevWarning, Origin: at, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool {
	for _, d := range l {
		if d.Severity == SevError {
			return true
		}
	}
	return false
}

// Sort orders diagnostics by file, line, column, then rule, for stable output.
func (l List) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Origin, l[j].Origin
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Entry != b.Entry {
			return a.Entry < b.Entry
		}
		return l[i].Rule < l[j].Rule
	})
}

// Err returns the list as an error when it holds errors, and nil otherwise.
func (l List) Err() error {
	if !l.HasErrors() {
		return nil
	}
	return &Errors{List: l}
}

// Errors is a List of diagnostics returned as an error. The CLI maps it to exit code 1 and
// prints every diagnostic.
type Errors struct{ List List }

// Error summarises the diagnostics; the first one is quoted in full.
func (e *Errors) Error() string {
	n := 0
	var first string
	for _, d := range e.List {
		if d.Severity == SevError {
			if n == 0 {
				first = d.String()
			}
			n++
		}
	}
	if n == 1 {
		return first
	}
	return fmt.Sprintf("%d problems, the first: %s", n, first)
}

// MaxQuoted is the most characters of a value that Quote keeps.
const MaxQuoted = 60

// Quote quotes a value read from an input file for a message: cut to MaxQuoted
// characters, with control and invisible characters escaped, so that a hostile or
// binary file can neither flood the output nor rewrite the terminal.
func Quote(v string) string {
	r := []rune(v)
	if len(r) > MaxQuoted {
		return strconv.QuoteToGraphic(string(r[:MaxQuoted])) + fmt.Sprintf("... (%d characters in all)", len(r))
	}
	return strconv.QuoteToGraphic(v)
}
