package redact

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	r := New("s3cr3t-client-value", "short", "  ")
	r.Add("emu-oauth-minted-42")
	cases := map[string]struct{ in, want string }{
		"known value":             {"secret s3cr3t-client-value here", "secret REDACTED here"},
		"minted value":            {`{"detail":"token emu-oauth-minted-42 expired"}`, `{"detail":"token REDACTED expired"}`},
		"too short to know":       {"a short word", "a short word"},
		"echoed bearer header":    {"Authorization: Bearer abc.DEF-ghi_123", "Authorization: Bearer REDACTED"},
		"bearer any case":         {"authorization=bearer%20xyz0123", "authorization=bearer REDACTED"},
		"basic header":            {"Authorization: Basic Y2xpZW50OnNlY3JldA==", "Authorization: Basic REDACTED"},
		"pat":                     {"token dapi0123456789abcdef0123456789abcdef-2 used", "token REDACTED used"},
		"oauth secret":            {"dose0123456789abcdef0123456789abcdef", "REDACTED"},
		"jwt":                     {"x eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl y", "x REDACTED y"},
		"pat-like but not hex":    {"dapi-emulator-token", "dapi-emulator-token"},
		"plain text":              {"GET /api/2.0/accounts/1/scim/v2/Users: 500", "GET /api/2.0/accounts/1/scim/v2/Users: 500"},
		"the word bearer alone":   {"the bearer of bad news", "the bearer of bad news"},
		"value inside another":    {"s3cr3t-client-value-and-more", "REDACTED-and-more"},
		"several in one string":   {"s3cr3t-client-value / Bearer qwerty12", "REDACTED / Bearer REDACTED"},
		"empty":                   {"", ""},
		"mask is left as it is":   {"REDACTED", "REDACTED"},
		"json escaped jwt in log": {`"tok":"eyJ0eXAiOiJKV1QifQ.eyJpc3MiOiJkYiJ9.AbC-_d"`, `"tok":"REDACTED"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := r.String(c.in); got != c.want {
				t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestNilRedactorStillRedactsShapes(t *testing.T) {
	var r *Redactor
	r.Add("ignored-value")
	if got := r.String("Bearer abcdef"); got != "Bearer REDACTED" {
		t.Errorf("got %q", got)
	}
}

func TestLongestValueFirst(t *testing.T) {
	r := New("abcdef", "abcdefghij")
	if got := r.String("abcdefghij"); got != "REDACTED" {
		t.Errorf("got %q, want the longer value redacted whole", got)
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	r := New("client-secret-1")
	w := r.Writer(&buf)
	msg := "error: POST /Users: 401 unauthorized: echo Authorization: Bearer client-secret-1\n"
	n, err := fmt.Fprint(w, msg)
	if err != nil || n != len(msg) {
		t.Fatalf("Fprint = %d, %v; want %d, nil", n, err, len(msg))
	}
	r.Add("minted-later-99")
	fmt.Fprint(w, "then minted-later-99\n")
	got := buf.String()
	if strings.Contains(got, "client-secret-1") || strings.Contains(got, "minted-later-99") {
		t.Errorf("secret written: %q", got)
	}
	if want := "error: POST /Users: 401 unauthorized: echo Authorization: Bearer REDACTED\nthen REDACTED\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestWriterReportsErrors(t *testing.T) {
	w := New("abcdefgh").Writer(failWriter{})
	if _, err := w.Write([]byte("x abcdefgh")); err == nil {
		t.Error("want the error of the underlying writer")
	}
}
