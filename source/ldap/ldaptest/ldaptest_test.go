package ldaptest

import (
	"strings"
	"testing"
)

func TestVerdict(t *testing.T) {
	tests := []struct {
		ci   string
		fail bool
	}{{"", false}, {"false", false}, {"true", true}}
	for _, tt := range tests {
		msg, fail := verdict("no slapd in PATH or /usr/sbin", tt.ci)
		if fail != tt.fail || !strings.Contains(msg, "install the Debian packages slapd and ldap-utils") {
			t.Errorf("CI=%q: verdict = %q, %t; want fail %t and an install hint", tt.ci, msg, fail, tt.fail)
		}
	}
}

func TestWithoutVersion(t *testing.T) {
	tests := map[string]string{
		"version: 1\n\ndn: a\n":      "\ndn: a\n",
		"# c\nversion: 1\ndn: a\n":   "# c\ndn: a\n",
		"dn: a\nversion: 1\n":        "dn: a\nversion: 1\n",
		"dn: dc=x\ncn: version: 1\n": "dn: dc=x\ncn: version: 1\n",
	}
	for in, want := range tests {
		if got := withoutVersion(in); got != want {
			t.Errorf("withoutVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStart(t *testing.T) {
	srv := Start(t, Options{TLS: true, LDIF: "dn: ou=people,dc=example,dc=test\nobjectClass: organizationalUnit\nou: people\n"})
	if !strings.HasPrefix(srv.URL, "ldap://127.0.0.1:") || !strings.HasPrefix(srv.LDAPSURL, "ldaps://127.0.0.1:") || srv.CACertFile == "" {
		t.Errorf("server %+v lacks a URL, an LDAPS URL or a CA file", srv)
	}
}
