package directory

import (
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/mapping"
)

func TestNormalizeDN(t *testing.T) {
	tests := []struct {
		name  string
		a, b  string
		equal bool
	}{
		{"case of types and values", "UID=Alice,OU=People,DC=Example", "uid=alice,ou=people,dc=example", true},
		{"spaces around separators", "uid=alice, ou=people ,dc=example", "uid=alice,ou=people,dc=example", true},
		{"escaped comma, backslash or hex", `cn=Smith\, John,dc=x`, `cn=Smith\2C John,dc=x`, true},
		{"multi-valued RDN in any order", `cn=a+uid=b,dc=x`, `UID=B+CN=A,dc=x`, true},
		{"non-ASCII case", "cn=Björn,dc=x", "cn=BJÖRN,dc=x", true},
		{"hex-encoded value", "cn=#04024869,dc=x", "cn=Hi,dc=x", true},
		{"different values", "cn=a,dc=x", "cn=b,dc=x", false},
		{"different depth", "cn=a,dc=x", "cn=a,dc=x,dc=y", false},
		{"plus is not a comma", `cn=a+uid=b,dc=x`, `cn=a,uid=b,dc=x`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ldap.ParseDN(tt.a)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ldap.ParseDN(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if got := NormalizeDN(a) == NormalizeDN(b); got != tt.equal {
				t.Errorf("NormalizeDN equal = %t (%q, %q), want %t", got, NormalizeDN(a), NormalizeDN(b), tt.equal)
			}
			if fold := a.EqualFold(b); fold != tt.equal {
				t.Errorf("EqualFold = %t, want %t: the normal form must agree with go-ldap", fold, tt.equal)
			}
		})
	}
}

func TestExternalID(t *testing.T) {
	guid := string([]byte{0x1e, 0x3f, 0x5a, 0x8c, 0x4d, 0x2b, 0x6f, 0x4e, 0x9a, 0x0b, 0x1c, 0x2d, 0x3e, 0x4f, 0x5a, 0x6b})
	tests := []struct {
		name, attr, value, want string
		wantErr                 bool
	}{
		{"objectGUID bytes", "objectGUID", guid, "8c5a3f1e-2b4d-4e6f-9a0b-1c2d3e4f5a6b", false},
		{"binary 16 bytes of another attribute", "msDS-ConsistencyGuid", guid, "8c5a3f1e-2b4d-4e6f-9a0b-1c2d3e4f5a6b", false},
		{"entryUUID text", "entryUUID", "5c1f7a2e-1d2b-4c3d-8e9f-0a1b2c3d4e5f", "5c1f7a2e-1d2b-4c3d-8e9f-0a1b2c3d4e5f", false},
		{"16 printable characters stay text", "employeeNumber", "ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOP", false},
		{"other binary", "jpegPhoto", "\xff\xd8\xff\xe0", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := externalID(tt.attr, tt.value)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("externalID = %q, %v; want %q, error %t", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestBuildScopes(t *testing.T) {
	entry := func(dn string, attrs ...string) Entry {
		e := Entry{DN: dn, Origin: model.Origin{File: "x.ldif", Entry: dn}}
		for i := 0; i+1 < len(attrs); i += 2 {
			e.Add(attrs[i], attrs[i+1])
		}
		return e
	}
	entries := []Entry{
		entry("uid=a,ou=staff,dc=x", "objectClass", "inetOrgPerson", "mail", "a@x.io", "status", "on"),
		entry("uid=b,ou=former,dc=x", "objectClass", "inetOrgPerson", "mail", "b@x.io", "status", "off"),
		entry("uid=c,ou=staff,dc=x", "objectClass", "account", "objectClass", "posixAccount", "mail", "c@x.io", "status", "off"),
		entry("cn=team,ou=groups,dc=x", "objectClass", "groupOfNames", "cn", "team",
			"member", "uid=a,ou=staff,dc=x", "member", "uid=b,ou=former,dc=x", "member", "uid=c,ou=staff,dc=x"),
	}
	mp, diags := NewMapper(Mapping{
		Users:  UserScope{BaseDN: "ou=staff,dc=x"},
		Active: mapping.ActiveRule{Attribute: "status", ActiveValues: []string{"on"}},
	}, model.Origin{})
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	state, _, diags := mp.Build(entries)
	want := &model.State{
		Users: []model.User{
			{UserName: "a@x.io", Active: true, Origin: entries[0].Origin},
			{UserName: "c@x.io", Active: false, Origin: entries[2].Origin},
		},
		Groups: []model.Group{{DisplayName: "team", Members: model.Members{Users: []string{"a@x.io", "c@x.io"}}, Origin: entries[3].Origin}},
	}
	if diff := cmp.Diff(want, state); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	if len(diags) != 1 || diags[0].Rule != RuleMemberOutside || diags[0].Origin.Entry != "cn=team,ou=groups,dc=x" {
		t.Errorf("diagnostics %v, want one member-out-of-scope warning on the group", diags)
	}
}

func TestAttributesAndFilters(t *testing.T) {
	mp, _ := NewMapper(Mapping{UserName: mapping.Names{"uid", "{givenName}.{sn}@example.org"}, Active: mapping.ActiveRule{Attribute: "employeeStatus"},
		GroupName: GroupName{Attribute: "displayName"}}, model.Origin{})
	want := []string{"objectClass", "uid", "member", "uniqueMember", "memberUid", "userAccountControl", "displayName",
		"givenName", "sn", "cn", "entryUUID", "objectGUID", "employeeStatus"}
	if diff := cmp.Diff(want, mp.Attributes()); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	users, groups := mp.Filters()
	if users != "(|(objectClass=person)(objectClass=organizationalperson)(objectClass=inetorgperson)(objectClass=posixaccount)(objectClass=user))" {
		t.Errorf("user filter %s", users)
	}
	if groups != "(|(objectClass=groupofnames)(objectClass=groupofuniquenames)(objectClass=posixgroup)(objectClass=group))" {
		t.Errorf("group filter %s", groups)
	}
}

// TestHostileValuesQuoted: a member value from a hostile export is cut short and its
// control characters escaped in the warning that reports it.
func TestHostileValuesQuoted(t *testing.T) {
	e := Entry{DN: "cn=g,dc=x", Origin: model.Origin{File: "x.ldif", Line: 1}}
	e.Add("objectClass", "groupOfNames")
	e.Add("cn", "g")
	e.Add("member", "cn=\x1b[2J"+strings.Repeat("A", 5000)+",dc=x")
	mp, _ := NewMapper(Mapping{}, model.Origin{})
	_, _, diags := mp.Build([]Entry{e})
	if len(diags) != 1 {
		t.Fatalf("got %v", diags)
	}
	if msg := diags[0].Message; strings.Contains(msg, "\x1b") || len(msg) > 200 || !strings.Contains(msg, "characters in all") {
		t.Errorf("message not cut and escaped: %q", msg)
	}
}
