package emulator

import (
	"net/http"
	"testing"
)

// FuzzFilter checks that any filter string and PATCH path either parse or are refused
// with a 400 invalidFilter-style error, and that a parsed filter can be checked and
// matched against every kind of object without panicking.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		`userName eq "ada@example.com"`,
		`displayName sw "data" and active eq true`,
		`(applicationId eq "x") or (externalId co "y")`,
		`emails.value eq "a@b.c"`,
		`name.givenName ne "Ada"`,
		`members[value eq "123"]`,
		`not (userName eq "a")`,
		`userName eq "unterminated`,
		`((((((((((a eq 1))))))))))`,
	} {
		f.Add(s)
	}
	objects := []*object{
		{kind: kindUser, id: 1, userName: "ada@example.com", displayName: "Ada", givenName: "Ada", familyName: "Lovelace", active: true},
		{kind: kindSP, id: 2, appID: "3f9c2a1e-7b4d-4e8a-9c61-0d2e5f8a7b13", displayName: "etl"},
		{kind: kindGroup, id: 3, displayName: "data", externalID: "g-1"},
	}
	f.Fuzz(func(t *testing.T, src string) {
		flt, err := parseFilter(src)
		switch {
		case err != nil && err.status != http.StatusBadRequest:
			t.Fatalf("parseFilter(%q): status %d, want 400", src, err.status)
		case err == nil && flt == nil:
			t.Fatalf("parseFilter(%q): no filter and no error", src)
		case err == nil:
			for _, o := range objects {
				if flt.check(o.kind) == nil {
					flt.match(o, false)
					flt.match(o, true)
				}
			}
			_, _ = matchValue(flt, "123")
		}
		if _, pf, err := splitPath(src); err == nil && pf != nil {
			_, _ = matchValue(pf, "123")
		} else if err != nil && err.status != http.StatusBadRequest {
			t.Fatalf("splitPath(%q): status %d, want 400", src, err.status)
		}
	})
}
