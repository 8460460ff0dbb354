package diag

import "testing"

func TestSuggest(t *testing.T) {
	tests := map[string]struct {
		got        string
		candidates []string
		want       string
	}{
		"one typo":             {"displayNme", []string{"active", "displayName", "userName"}, "displayName"},
		"case only":            {"DisplayName", []string{"displayName"}, "displayName"},
		"transposed letters":   {"enigneering", []string{"engineering", "finance"}, "engineering"},
		"too far":              {"xyz", []string{"displayName"}, ""},
		"short words need one": {"ab", []string{"cd", "ac"}, "ac"},
		"closest wins":         {"identites", []string{"identity", "identities"}, "identities"},
		"itself is no hint":    {"users", []string{"users"}, ""},
		"none":                 {"users", nil, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Suggest(tc.got, tc.candidates); got != tc.want {
				t.Errorf("Suggest(%q) = %q, want %q", tc.got, got, tc.want)
			}
		})
	}
	if got := DidYouMean("grups", []string{"groups"}); got != ` (did you mean "groups"?)` {
		t.Errorf("DidYouMean = %q", got)
	}
}
