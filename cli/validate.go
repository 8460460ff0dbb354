package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
)

// ValidateCmd parses and validates every source and reports every problem at once.
type ValidateCmd struct {
	Sources
	Format string `enum:"text,markdown,json,github" default:"text" env:"SCIMSYNC_FORMAT" help:"Output format: text, markdown (for job summaries and comments), json, or github (GitHub Actions annotations, then the summary line). In GitHub Actions the problems are also written to stderr as annotations."`
}

// Run validates and writes the report to Out; it returns exit status 1 when the sources
// are invalid.
func (c *ValidateCmd) Run(rt *Runtime) error {
	_, state, summaries, diags, err := c.Sources.load(rt)
	if err != nil {
		return err
	}
	r := newValidation(state, diags)
	r.Sources = configSummaries(summaries)
	switch c.Format {
	case "json":
		err = r.writeJSON(rt.IO.Out)
	case "markdown":
		err = r.writeMarkdown(rt.IO.Out)
	case "github":
		newAnnotator(rt.IO.Out, rt.IO.Getenv).diagnostics(r.Diagnostics)
		_, err = fmt.Fprintln(rt.IO.Out, r.summaryLine())
	default:
		err = r.writeText(rt.IO.Out, rt.Color())
	}
	if c.Format != "github" {
		rt.annotator().diagnostics(r.Diagnostics)
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if !r.Valid {
		return exitStatus(ExitError)
	}
	return nil
}

// validation is the result of validate, and its JSON form.
type validation struct {
	Valid       bool      `json:"valid"`
	Counts      counts    `json:"counts"`
	Diagnostics diag.List `json:"diagnostics"`
	// Sources holds one line per source of the config: what it read and skipped.
	Sources []string `json:"sources,omitempty"`
}

// counts are the numbers of declared objects.
type counts struct {
	Users             int `json:"users"`
	ServicePrincipals int `json:"servicePrincipals"`
	Groups            int `json:"groups"`
	Workspaces        int `json:"workspaces"`
}

func newValidation(s *model.State, diags diag.List) *validation {
	diags.Sort()
	r := &validation{Valid: !diags.HasErrors(), Diagnostics: diags}
	if r.Diagnostics == nil {
		r.Diagnostics = diag.List{}
	}
	if s != nil {
		r.Counts = counts{len(s.Users), len(s.ServicePrincipals), len(s.Groups), len(s.Workspaces)}
	}
	return r
}

func (r *validation) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ANSI colours for severities on a terminal.
const (
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

func (r *validation) writeText(w io.Writer, color bool) error {
	var b strings.Builder
	for _, d := range r.Diagnostics {
		line := d.String()
		if color {
			sev := string(d.Severity) + ":"
			c := red
			if d.Severity == diag.SevWarning {
				c = yellow
			}
			line = strings.Replace(line, sev, c+sev+reset, 1)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	for _, line := range r.Sources {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteString(r.summaryLine())
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// summaryLine is the last line of the text report: "valid: 42 users, ..." or
// "3 errors in 2 files".
func (r *validation) summaryLine() string {
	if !r.Valid {
		return summary(r.Diagnostics)
	}
	c := r.Counts
	s := fmt.Sprintf("valid: %s, %s, %s, %s", plural(c.Users, "user"), plural(c.ServicePrincipals, "service principal"),
		plural(c.Groups, "group"), plural(c.Workspaces, "workspace"))
	if n := count(r.Diagnostics, diag.SevWarning); n > 0 {
		s += fmt.Sprintf(" (%s)", plural(n, "warning"))
	}
	return s
}

// writeMarkdown writes the report for a job summary or a pull-request comment: a heading
// with the outcome, then a table of the problems.
func (r *validation) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	if r.Valid {
		c := r.Counts
		fmt.Fprintf(&b, "## scimsync validate: valid\n\n%s, %s, %s, %s.\n", plural(c.Users, "user"), plural(c.ServicePrincipals, "service principal"),
			plural(c.Groups, "group"), plural(c.Workspaces, "workspace"))
	} else {
		fmt.Fprintf(&b, "## scimsync validate: %s\n", summary(r.Diagnostics))
	}
	if len(r.Diagnostics) > 0 {
		b.WriteString("\n| where | severity | problem | rule |\n|---|---|---|---|\n")
		for _, d := range r.Diagnostics {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCode(d.Origin.String()), d.Severity, mdCell(d.Message), mdCode(d.Rule))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCode writes s as a Markdown code span in a table cell.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("`", "'", "|", "\\|", "\n", " ").Replace(s)
	return "`" + s + "`"
}

// mdCell escapes text for a Markdown table cell: characters that would start Markdown or
// HTML are backslash-escaped, and line breaks become spaces.
func mdCell(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			b.WriteByte(' ')
		case strings.ContainsRune("\\`*_[]<>|#!~&", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// summary counts the errors and warnings of a list and the files they are in:
// "3 errors in 2 files".
func summary(diags diag.List) string {
	files := make(map[string]bool)
	for _, d := range diags {
		if d.Origin.File != "" {
			files[d.Origin.File] = true
		}
	}
	s := plural(count(diags, diag.SevError), "error")
	if n := count(diags, diag.SevWarning); n > 0 {
		s += " and " + plural(n, "warning")
	}
	if len(files) > 0 {
		s += " in " + plural(len(files), "file")
	}
	return s
}

func count(diags diag.List, sev diag.Severity) int {
	n := 0
	for _, d := range diags {
		if d.Severity == sev {
			n++
		}
	}
	return n
}

// plural formats a count with its noun: "1 user", "2 users".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
