package ldif

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/directory"
	"github.com/scimsync/scimsync/source/mapping"
	"github.com/scimsync/scimsync/source/read"

	"github.com/scimsync/scimsync/source/sourcetest"
)

var cfgOrigin = model.Origin{File: "scimsync.yaml", Line: 12, Column: 5}

func TestReadGolden(t *testing.T) {
	td := "testdata"
	tests := []struct {
		name       string
		files      []string
		mapping    directory.Mapping
		allowEmpty bool
	}{
		{name: "openldap", files: []string{"openldap.ldif"}},
		{name: "openldap-scoped", files: []string{"openldap.ldif"}, mapping: directory.Mapping{
			Users:     directory.UserScope{BaseDN: "OU=People,DC=Example,DC=Org"},
			Groups:    directory.GroupScope{NamePattern: "^(Engineering|Platform)$", ObjectClasses: []string{"groupOfNames", "groupOfUniqueNames"}},
			GroupName: directory.GroupName{NameRule: mapping.NameRule{Prefix: "ldap-", Lowercase: true}},
			UserName:  mapping.Names{"mail"}, DisplayName: "cn", ExternalID: "uid",
		}},
		{name: "ad", files: []string{"ad.ldif"}},
		{name: "ad-custom", files: []string{"ad.ldif"}, mapping: directory.Mapping{
			UserName:  mapping.Names{"userPrincipalName"},
			Active:    mapping.ActiveRule{Attribute: "userAccountControl", DisabledBit: 2},
			Groups:    directory.GroupScope{BaseDN: "OU=Groups,DC=corp,DC=example"},
			GroupName: directory.GroupName{NameRule: mapping.NameRule{Replace: []mapping.Replacement{{Pattern: "^DB-", With: "databricks-"}}}},
		}},
		{name: "errors", files: []string{"errors.ldif"}},
		// No mail: the userName comes from a template, lower-cased; a uid with a space
		// yields no e-mail address and is an error naming what each alternative gave.
		{name: "nomail-templates", files: []string{"nomail.ldif"}, mapping: directory.Mapping{
			UserName: mapping.Names{"{mail}", "{uid}@lab.example"},
			Users:    directory.UserScope{BaseDN: "ou=people,dc=lab,dc=example"},
		}},
		{name: "nomail-default", files: []string{"nomail.ldif"}},
		{name: "split", files: []string{"split-users.ldif", "split-groups.ldif"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := config.Source{Kind: config.SourceLDIF, Settings: sourcetest.Node(t, Settings{Mapping: tt.mapping}), AllowEmpty: tt.allowEmpty, Origin: cfgOrigin}
			for _, f := range tt.files {
				src.Paths = append(src.Paths, filepath.Join(td, f))
			}
			res, diags := Read(context.Background(), src)
			sourcetest.Golden(t, filepath.Join(td, tt.name), td, res.State, diags)
		})
	}
}

func TestParseEntries(t *testing.T) {
	in := "version: 1\r\n\r\n# c\r\ndn: cn=a,dc=x\r\ncn: a\r\ndescription: one\r\n  two\r\nmember:\r\nCN;lang-en: A\r\n\r\n\r\ndn:: Y249YixkYz14\r\nobjectGUID:: AAECAwQFBgcICQoLDA0ODw==\r\n"
	entries, diags := Parse("f.ldif", []byte(in))
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	want := []directory.Entry{
		{DN: "cn=a,dc=x", Origin: model.Origin{File: "f.ldif", Line: 4, Entry: "cn=a,dc=x"}, Attrs: map[string][]string{
			"cn": {"a"}, "description": {"one two"}, "member": {""}, "cn;lang-en": {"A"},
		}},
		{DN: "cn=b,dc=x", Origin: model.Origin{File: "f.ldif", Line: 12, Entry: "cn=b,dc=x"}, Attrs: map[string][]string{
			"objectguid": {"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"},
		}},
	}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestReadProblems(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.ldif")
	if err := os.WriteFile(empty, []byte("version: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		src      config.Source
		settings string
		diags    []string
	}{
		{"no path", config.Source{}, "", []string{
			"scimsync.yaml:12:5: error: the ldif source needs a path to an LDIF file [ldif-files]"}},
		{"no users", config.Source{Paths: []string{empty}}, "", nil},
		{"settings of other kinds", config.Source{Paths: []string{empty}}, "kind: ldif\nusers: u.csv\nldap: {baseDN: dc=x}\n", []string{
			"scimsync.yaml:2:1: error: users is not used by ldif sources (they read mapping here) [unused-setting]",
			"scimsync.yaml:3:1: error: ldap is not used by ldif sources (they read mapping here) [unused-setting]"}},
		{"directory without ldif", config.Source{Paths: []string{t.TempDir()}}, "", nil},
		{"bad mapping", config.Source{Paths: []string{empty}}, "mapping:\n  groups: {baseDN: not a dn}\n  includeGuests: true\n", []string{
			"scimsync.yaml:3:3: error: mapping.includeGuests is not used by ldif sources (they read active, displayName, externalId, familyName, givenName, groupName, groups, userName, users here) [unused-setting]",
			`scimsync.yaml:12:5: error: mapping.groups.baseDN "not a dn": DN ended with incomplete type, value pair [invalid-mapping]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.Kind, tt.src.Origin = config.SourceLDIF, cfgOrigin
			tt.src.Settings = sourcetest.YAML(t, tt.settings)
			_, diags := Read(context.Background(), tt.src)
			got := strs(diags)
			if tt.name == "directory without ldif" {
				if len(got) == 0 || !strings.Contains(got[0], "holds no *.ldif file") {
					t.Errorf("got %q, want an error saying the directory holds no LDIF file", got)
				}
				return
			}
			if diff := cmp.Diff(tt.diags, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadDirectory(t *testing.T) {
	res, diags := Read(context.Background(), config.Source{Kind: config.SourceLDIF, Paths: []string{"testdata"},
		Settings: sourcetest.Node(t, Settings{Mapping: directory.Mapping{Groups: directory.GroupScope{NamePattern: "^readers$"}}}), Origin: cfgOrigin})
	state := res.State
	// The directory holds every fixture, errors.ldif included; what matters here is that
	// the split files were both read and their members resolved across files.
	var readers *model.Group
	for i := range state.Groups {
		if state.Groups[i].DisplayName == "readers" {
			readers = &state.Groups[i]
		}
	}
	if readers == nil || !cmp.Equal(readers.Members.Users, []string{"carol@example.org"}) {
		t.Errorf("readers = %+v, want carol as member; diagnostics %v", readers, diags)
	}
}

func strs(diags diag.List) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.String())
	}
	return out
}

// FuzzParse checks that any input parses and maps without panicking or looping, and that
// every entry's origin is a line of the input.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.ldif")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("dn: cn=a\nmember: cn=a\n\ndn: cn=b\nobjectClass: groupOfNames\nmember: cn=a\n"))
	mapper, _ := directory.NewMapper(directory.Mapping{}, model.Origin{})
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, _ := Parse("f.ldif", data)
		lines := strings.Count(string(data), "\n") + 1
		for _, e := range entries {
			if e.Origin.Line < 1 || e.Origin.Line > lines {
				t.Fatalf("entry %q at line %d of %d", e.DN, e.Origin.Line, lines)
			}
		}
		mapper.Build(entries)
	})
}

// TestParseFoldingLinear: unfolding takes memory (and so time) linear in the size of a
// folded value. Before, each continuation copied the whole line so far: 4,000
// continuations of 60 bytes allocated about 500 MB for 240 KB of input.
func TestParseFoldingLinear(t *testing.T) {
	const pieces = 4000
	var b strings.Builder
	b.WriteString("dn: cn=photo,dc=x\nobjectClass: groupOfNames\ncn: photo\ndescription: start")
	for range pieces {
		b.WriteString("\n " + strings.Repeat("x", 60))
	}
	b.WriteString("\n")
	data := []byte(b.String())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	entries, diags := Parse("f.ldif", data)
	runtime.ReadMemStats(&after)
	if len(diags) != 0 || len(entries) != 1 || len(entries[0].Values("description")[0]) != 5+60*pieces {
		t.Fatalf("got %d entries, %v", len(entries), diags)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(20*len(data)) {
		t.Errorf("parsing %d bytes allocated %d bytes, more than 20 times the input", len(data), alloc)
	}
}

// TestParseStopsPastTheLimits: a file with more entries than ten accounts hold is not
// read to the end.
func TestParseStopsPastTheLimits(t *testing.T) {
	var b strings.Builder
	for i := range read.MaxRecords + 5 {
		fmt.Fprintf(&b, "dn: uid=u%d,dc=x\nuid: u%d\n\n", i, i)
	}
	entries, diags := Parse("big.ldif", []byte(b.String()))
	if len(entries) > read.MaxRecords+1 || len(diags) != 1 || diags[0].Rule != read.RuleTooMany {
		t.Fatalf("got %d entries and %v, want reading stopped with one too-many error", len(entries), diags)
	}
}
