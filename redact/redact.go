// Package redact removes credentials from text before scimsync prints or writes it.
//
// A Redactor knows two kinds of secret: the values in use in this run (the token, the
// OAuth client secret and every OAuth access token as it is minted), added with Add, and
// the shapes credentials have whatever their value: Databricks personal access tokens
// (dapi…) and OAuth secrets (dose…), JSON Web Tokens (eyJ….eyJ….…) and the credential
// after "Bearer " or "Basic " in an echoed Authorization header. Both are replaced by
// REDACTED.
//
// The command line passes every output through one Redactor: standard output and error
// (and so every log line), plan files, snapshots, exported manifests and audit logs. The
// SCIM client redacts the error bodies it parses, so that a server or proxy that echoes the
// request headers does not put the token into an error value.
//
// Package redact is a leaf: it imports nothing of the project.
package redact

import (
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Mask is what a redacted credential is replaced with.
const Mask = "REDACTED"

// MinLength is the shortest value Add accepts. Shorter values would match ordinary words
// and are not credentials Databricks issues (a PAT is 36 characters, an OAuth secret and
// an access token longer).
const MinLength = 6

// shapes are credentials recognised by their form. Each match is replaced by
// replacement, where $1 keeps the scheme of an Authorization header.
// hints are cheap tests (on the lower-cased text) that skip a shape's regular expression
// when its text cannot be there, so that a large plan file is scanned quickly.
var shapes = []struct {
	hints       []string
	re          *regexp.Regexp
	replacement string
}{
	// An Authorization header value, as a proxy or WAF may echo it: the scheme stays.
	{[]string{"bearer", "basic"}, regexp.MustCompile(`(?i)\b(bearer|basic)(\s+|%20|\+)[A-Za-z0-9._~+/=-]{4,}`), "${1} " + Mask},
	// Databricks personal access tokens (dapi + 32 hex digits, sometimes "-2") and OAuth
	// secrets (dose + 32 hex digits).
	{[]string{"dapi", "dose"}, regexp.MustCompile(`\b(?:dapi|dose)[0-9a-f]{32}(?:-[0-9]+)?\b`), Mask},
	// JSON Web Tokens, such as OAuth access tokens: a base64url JSON header and payload
	// (both start {" and so eyJ), and a signature.
	{[]string{"eyj"}, regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`), Mask},
}

// Redactor replaces secrets in text. The zero value and nil are ready to use and
// recognise credentials by their shape only. It is safe for concurrent use.
type Redactor struct {
	mu     sync.RWMutex
	values []string // longest first, so that a value containing another is found whole
}

// New returns a Redactor that knows the given secret values.
func New(values ...string) *Redactor {
	r := &Redactor{}
	for _, v := range values {
		r.Add(v)
	}
	return r
}

// Add makes r redact value from now on. Values shorter than MinLength (after trimming
// spaces) are ignored, and so are values r already knows.
func (r *Redactor) Add(value string) {
	value = strings.TrimSpace(value)
	if r == nil || len(value) < MinLength {
		return
	}
	r.mu.RLock()
	known := slices.Contains(r.values, value)
	r.mu.RUnlock()
	if known {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.values, value) {
		return
	}
	r.values = append(r.values, value)
	slices.SortStableFunc(r.values, func(a, b string) int { return len(b) - len(a) })
}

// String returns s with every known secret value and every credential-shaped string
// replaced by Mask.
func (r *Redactor) String(s string) string {
	if r != nil {
		r.mu.RLock()
		for _, v := range r.values {
			if strings.Contains(s, v) {
				s = strings.ReplaceAll(s, v, Mask)
			}
		}
		r.mu.RUnlock()
	}
	lower := strings.ToLower(s)
	for _, sh := range shapes {
		if slices.ContainsFunc(sh.hints, func(h string) bool { return strings.Contains(lower, h) }) {
			s = sh.re.ReplaceAllString(s, sh.replacement)
		}
	}
	return s
}

// Writer returns a writer that redacts what it passes to w. Each Write is redacted on
// its own: a secret split across two writes is not recognised, so callers write whole
// messages (fmt.Fprint*, a slog record, an encoded JSON document, a rendered plan each
// make one Write). Write reports len(p) when w took the whole redacted text.
func (r *Redactor) Writer(w io.Writer) io.Writer { return &writer{r: r, w: w} }

type writer struct {
	r *Redactor
	w io.Writer
}

func (w *writer) Write(p []byte) (int, error) {
	s := string(p)
	red := w.r.String(s)
	if red == s {
		return w.w.Write(p)
	}
	if _, err := io.WriteString(w.w, red); err != nil {
		return 0, err
	}
	return len(p), nil
}
