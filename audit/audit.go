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
}

// Log writes records as JSON lines. It is safe for concurrent use. A nil *Log discards.
type Log struct {
	mu  sync.Mutex
	enc *json.Encoder
	err error
}

// NewLog returns a log that writes to w.
func NewLog(w io.Writer) *Log { return &Log{enc: json.NewEncoder(w)} }

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
