// Package audit records what apply did: one JSON line per change, with the requests it took.
//
// It is a leaf package like model: plan writes change records, and the SCIM client notes each
// HTTP attempt in the Trace that apply puts in the request context. Neither imports the
// other. Records never hold secrets: only methods, paths, statuses and counts.
//
// Package audit imports nothing of the project.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Record is one line of the audit log: the outcome of one planned change.
type Record struct {
	Time       time.Time `json:"time"`
	Change     int       `json:"change"` // index of the change in the plan
	Action     string    `json:"action"`
	Kind       string    `json:"kind"`
	Key        string    `json:"key"`
	Workspace  string    `json:"workspace,omitempty"`
	Requests   []string  `json:"requests"` // e.g. "PATCH /Groups/123 -> 200"
	Status     string    `json:"status"`   // ok, failed, skipped
	Error      string    `json:"error,omitempty"`
	Attempts   int       `json:"attempts"`
	DurationMS int64     `json:"durationMs"`
	// Source says where the apply came from; the Log fills it in.
	Source *Source `json:"source,omitempty"`
}

// Source is where an apply came from: the plan it carried out and, in CI, the commit, the
// actor and the run. Empty fields are left out.
type Source struct {
	// Plan is the checksum of the plan file applied; empty for apply --auto-approve.
	Plan string `json:"plan,omitempty"`
	// CI names the CI system: github-actions or gitlab-ci.
	CI         string `json:"ci,omitempty"`
	Repository string `json:"repository,omitempty"`
	Commit     string `json:"commit,omitempty"`
	Ref        string `json:"ref,omitempty"`
	Actor      string `json:"actor,omitempty"`
	RunURL     string `json:"runUrl,omitempty"`
}

// CISource returns what the environment says about the CI run, or a zero Source outside
// CI. It reads GitHub Actions' GITHUB_* and GitLab CI's CI_* variables.
func CISource(getenv func(string) string) Source {
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		s := Source{CI: "github-actions", Repository: getenv("GITHUB_REPOSITORY"), Commit: getenv("GITHUB_SHA"),
			Ref: getenv("GITHUB_REF"), Actor: getenv("GITHUB_ACTOR")}
		if id := getenv("GITHUB_RUN_ID"); id != "" && s.Repository != "" {
			server := getenv("GITHUB_SERVER_URL")
			if server == "" {
				server = "https://github.com"
			}
			s.RunURL = server + "/" + s.Repository + "/actions/runs/" + id
			if n := getenv("GITHUB_RUN_ATTEMPT"); n != "" && n != "1" {
				s.RunURL += "/attempts/" + n
			}
		}
		return s
	case getenv("GITLAB_CI") == "true":
		return Source{CI: "gitlab-ci", Repository: getenv("CI_PROJECT_PATH"), Commit: getenv("CI_COMMIT_SHA"),
			Ref: getenv("CI_COMMIT_REF_NAME"), Actor: getenv("GITLAB_USER_LOGIN"), RunURL: getenv("CI_JOB_URL")}
	}
	return Source{}
}

// Log writes records as JSON lines. It is safe for concurrent use. A nil *Log discards.
type Log struct {
	mu     sync.Mutex
	enc    *json.Encoder
	err    error
	source *Source
}

// NewLog returns a log that writes to w.
func NewLog(w io.Writer) *Log { return &Log{enc: json.NewEncoder(w)} }

// WithSource makes every record the log writes say where the apply came from; a zero
// Source adds nothing. It returns l.
func (l *Log) WithSource(s Source) *Log {
	if s != (Source{}) {
		l.source = &s
	}
	return l
}

// Write appends one record. The first write error is kept and returned by Err.
func (l *Log) Write(r Record) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return
	}
	if r.Source == nil {
		r.Source = l.source
	}
	if err := l.enc.Encode(r); err != nil {
		l.err = fmt.Errorf("write audit log: %w", err)
	}
}

// Err returns the first error met while writing.
func (l *Log) Err() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Trace collects the HTTP attempts made on behalf of one change.
type Trace struct {
	mu       sync.Mutex
	requests []string
	attempts int
}

// Attempt notes one HTTP attempt: method, path (without query or host) and the status, or
// the network error text when there was no response.
func (t *Trace) Attempt(method, path string, status int, netErr error) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.attempts++
	if netErr != nil {
		t.requests = append(t.requests, fmt.Sprintf("%s %s -> %v", method, path, netErr))
		return
	}
	t.requests = append(t.requests, fmt.Sprintf("%s %s -> %d", method, path, status))
}

// Requests returns the attempts noted so far and their count.
func (t *Trace) Requests() ([]string, int) {
	if t == nil {
		return nil, 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.requests...), t.attempts
}

type traceKey struct{}

// WithTrace returns a context that carries t.
func WithTrace(ctx context.Context, t *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// FromContext returns the Trace carried by ctx, or nil.
func FromContext(ctx context.Context) *Trace {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	return t
}
