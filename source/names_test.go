package source

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
)

func TestNames(t *testing.T) {
	tests := map[string]struct {
		state *model.State
		want  []string
	}{
		"zero-width space in a group name": {
			state: &model.State{Groups: []model.Group{group("platform-admins", 1), group("platform\u200b-admins", 2)}},
			want:  []string{`m.yaml:2:5: error: group name "platform\u200b-admins" holds the invisible or control character U+200B at character 9; names must be visible text [invisible-character]`},
		},
		"joiner and byte-order mark": {
			state: &model.State{Groups: []model.Group{group("ops\u200d", 1), group("\ufeffops", 2)}},
			want: []string{
				`m.yaml:1:5: error: group name "ops\u200d" holds the invisible or control character U+200D at character 4; names must be visible text [invisible-character]`,
				`m.yaml:2:5: error: group name "\ufeffops" holds the invisible or control character U+FEFF at character 1; names must be visible text [invisible-character]`,
			},
		},
		"bidi override in a userName": {
			state: &model.State{Users: []model.User{user("ada\u202e@example.com", 3)}},
			want:  []string{`m.yaml:3:5: error: userName "ada\u202e@example.com" holds the invisible or control character U+202E at character 4; names must be visible text [invisible-character]`},
		},
		"zero-width in a service principal name": {
			state: &model.State{ServicePrincipals: []model.ServicePrincipal{{DisplayName: "ml\u200c-serving", Origin: at(4)}}},
			want:  []string{`m.yaml:4:5: error: service principal displayName "ml\u200c-serving" holds the invisible or control character U+200C at character 3; names must be visible text [invisible-character]`},
		},
		"cyrillic letter in a latin group name": {
			state: &model.State{Groups: []model.Group{group("pl\u0430tform-admins", 1)}},
			want:  []string{`m.yaml:1:5: warning: group name "plаtform-admins" mixes Latin and Cyrillic letters (U+0430 is Cyrillic): it may be a look-alike of another name [mixed-script]`},
		},
		"greek omicron in a userName": {
			state: &model.State{Users: []model.User{user("b\u03bfb@example.com", 1)}},
			want:  []string{`m.yaml:1:5: warning: userName "bοb@example.com" mixes Latin and Greek letters (U+03BF is Greek): it may be a look-alike of another name [mixed-script]`},
		},
		"one script, accents and other scripts are fine": {
			state: &model.State{
				Users:  []model.User{user("zoë@example.com", 1), user("ivan@пример.рф", 2)},
				Groups: []model.Group{group("данные", 3), group("データ-team", 4), group("Ελληνικά", 5)},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := strs(Check(tc.state, model.LevelAccount))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNameLengths(t *testing.T) {
	long := strings.Repeat("x", 256)
	s := &model.State{
		Users: []model.User{
			{UserName: strings.Repeat("a", 64) + "@" + strings.Repeat("b.", 100) + "com", Origin: at(1)},
			{UserName: "ok@example.com", DisplayName: long, GivenName: long, FamilyName: strings.Repeat("y", 255), Origin: at(2)},
		},
		ServicePrincipals: []model.ServicePrincipal{{DisplayName: long, Origin: at(3)}, {DisplayName: long[:255], Origin: at(4)}},
	}
	want := []string{
		`m.yaml:1:5: error: userName "` + strings.Repeat("a", 64) + `@b.b.b.b.b.b.b.b"… is 268 characters long; an email address has at most 254 [name-too-long]`,
		`m.yaml:2:5: error: user "ok@example.com": displayName is 256 characters long; at most 255 are accepted [name-too-long]`,
		`m.yaml:2:5: error: user "ok@example.com": givenName is 256 characters long; at most 255 are accepted [name-too-long]`,
		`m.yaml:3:5: error: service principal displayName "` + strings.Repeat("x", 80) + `"… is 256 characters long; at most 255 are accepted [name-too-long]`,
	}
	var got []string
	for _, d := range Check(s, model.LevelAccount) {
		if d.Rule == RuleNameTooLong {
			got = append(got, d.String())
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestLookAlikes(t *testing.T) {
	s := &model.State{Groups: []model.Group{group("platform-admins", 1), group("pl\u0430tform-admins", 2)}}
	got := LookAlikes(s)
	if len(got) != 1 || !strings.Contains(got[0], "m.yaml:2:5") || !strings.Contains(got[0], "Latin and Cyrillic") {
		t.Errorf("LookAlikes = %q", got)
	}
}
