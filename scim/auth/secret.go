package auth

import (
	"fmt"
	"log/slog"
)

// Redacted is what a Secret prints, marshals and logs as.
const Redacted = "REDACTED"

// Secret holds a credential: a token, a client secret or an OAuth access token. Its String,
// GoString, Format, MarshalJSON, MarshalText and LogValue methods all yield "REDACTED" (or
// "" for an empty secret), so a Secret can sit in a struct that is printed, logged or
// serialised without leaking. The value is kept behind a pointer, so even reflection-based
// printing of an unexported field shows an address rather than the secret. Reveal returns
// the value; call it only where the credential is sent.
type Secret struct {
	p *string
}

// NewSecret wraps s. The empty string yields the zero Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{p: &s}
}

// Reveal returns the secret value, or "" for the zero Secret.
func (s Secret) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.p == nil || *s.p == "" }

// Equal reports whether two secrets hold the same value.
func (s Secret) Equal(o Secret) bool { return s.Reveal() == o.Reveal() }

func (s Secret) shown() string {
	if s.IsZero() {
		return ""
	}
	return Redacted
}

// String returns "REDACTED", or "" for an empty secret.
func (s Secret) String() string { return s.shown() }

// GoString returns "REDACTED", or "" for an empty secret.
func (s Secret) GoString() string { return s.shown() }

// Format prints "REDACTED" (or "") for every verb, so no format string reveals the value.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.shown())) }

// MarshalJSON encodes the secret as the JSON string "REDACTED" (or "").
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.shown() + `"`), nil }

// MarshalText encodes the secret as "REDACTED" (or "").
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }

// LogValue makes log/slog record the secret as "REDACTED" (or "").
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.shown()) }
