package mapping

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUserName(t *testing.T) {
	attrs := map[string][]string{
		"mail": {"Ada@Example.org"}, "uid": {"Ada"}, "cn": {"Ada Lovelace"}, "multi": {"a@x.io", "b@x.io"},
	}
	get := func(a string) []string { return attrs[strings.ToLower(a)] }
	tests := []struct {
		name string
		alts []string
		want UserNameResult
	}{
		{"attribute kept as it is", []string{"mail"}, UserNameResult{UserName: "Ada@Example.org"}},
		{"template lower-cased", []string{"{mail}"}, UserNameResult{UserName: "ada@example.org"}},
		{"fallback when the first is absent", []string{"{email}", "{uid}@Example.com"}, UserNameResult{UserName: "ada@example.com"}},
		{"fallback when the first is no address", []string{"{cn}@x.io", "{uid}@x.io"}, UserNameResult{UserName: "ada@x.io"}},
		{"none valid", []string{"{cn}@x.io", "uid"}, UserNameResult{Invalid: []string{`{cn}@x.io gives "ada lovelace@x.io"`, `uid gives "Ada"`}}},
		{"none present", []string{"{email}", "telephoneNumber"}, UserNameResult{}},
		{"several values", []string{"{multi}"}, UserNameResult{UserName: "a@x.io", Multi: []string{"multi"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := NewUserName(tt.alts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, u.Eval(get)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestUserNameErrors(t *testing.T) {
	for _, bad := range []string{"{uid", "uid}@x", "{}@x", "{{uid}}@x"} {
		if _, err := NewUserName([]string{bad}); err == nil {
			t.Errorf("NewUserName(%q) accepted", bad)
		}
	}
	u, err := NewUserName([]string{"{givenName}.{sn}@x.io", "mail", "{SN}"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"givenName", "sn", "mail"}, u.Attributes()); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
}
