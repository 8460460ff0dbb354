package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/scimsync/scimsync/diag"
)

// GitHub Actions annotations. In a workflow (GITHUB_ACTIONS=true) every problem is also
// written to stderr as a workflow command, `::error file=F,line=L,col=C,title=T::message`,
// which the runner turns into an annotation on the line of the pull request's diff; the
// runner reads workflow commands from both output streams, and stderr keeps the JSON and
// Markdown that commands print on stdout clean. validate --format github prints them on
// stdout instead of the text report.

// annotator writes annotations for one run.
type annotator struct {
	w io.Writer
	// workspace is $GITHUB_WORKSPACE: annotation paths are relative to the repository's
	// root, diagnostics' paths to the working directory.
	workspace string
}

// annotator returns the run's annotator, or nil outside GitHub Actions.
func (rt *Runtime) annotator() *annotator {
	if rt.IO.Getenv("GITHUB_ACTIONS") != "true" {
		return nil
	}
	return newAnnotator(rt.IO.Err, rt.IO.Getenv)
}

func newAnnotator(w io.Writer, getenv func(string) string) *annotator {
	return &annotator{w: w, workspace: getenv("GITHUB_WORKSPACE")}
}

// diagnostics writes one annotation per diagnostic. A nil annotator writes nothing.
func (a *annotator) diagnostics(diags diag.List) {
	if a == nil {
		return
	}
	var b strings.Builder
	for _, d := range diags {
		level := "error"
		if d.Severity == diag.SevWarning {
			level = "warning"
		}
		var props []string
		if d.Origin.File != "" && d.Origin.Entry == "" && !strings.Contains(d.Origin.File, "://") {
			props = append(props, "file="+escapeProperty(a.path(d.Origin.File)))
			if d.Origin.Line > 0 {
				props = append(props, fmt.Sprintf("line=%d", d.Origin.Line))
				if d.Origin.Column > 0 {
					props = append(props, fmt.Sprintf("col=%d", d.Origin.Column))
				}
			}
		}
		props = append(props, "title="+escapeProperty("scimsync: "+d.Rule))
		msg := d.Message
		if d.Origin.Entry != "" {
			msg = d.Origin.String() + ": " + msg
		}
		if d.Related != nil && !d.Related.IsZero() {
			msg += fmt.Sprintf(" (see %s)", d.Related)
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", level, strings.Join(props, ","), escapeData(msg))
	}
	_, _ = io.WriteString(a.w, b.String())
}

// failure writes an error that is not about a place in a file, with its hint.
func (a *annotator) failure(err error, hint string) {
	if a == nil {
		return
	}
	msg := err.Error()
	if hint != "" {
		msg += "\n" + hint
	}
	fmt.Fprintf(a.w, "::error title=%s::%s\n", escapeProperty("scimsync failed"), escapeData(msg))
}

// path returns file relative to the workspace, with forward slashes, when it is inside it.
func (a *annotator) path(file string) string {
	if a.workspace == "" {
		return filepath.ToSlash(file)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return filepath.ToSlash(file)
	}
	rel, err := filepath.Rel(a.workspace, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(file)
	}
	return filepath.ToSlash(rel)
}

// escapeData escapes the message of a workflow command, as @actions/core does.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a property value of a workflow command, as @actions/core does.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
