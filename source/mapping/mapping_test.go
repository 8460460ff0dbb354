package mapping

import (
	"testing"
)

func TestActiveEval(t *testing.T) {
	type check struct {
		value   string
		active  bool
		wantErr bool
	}
	tests := []struct {
		name   string
		rule   ActiveRule
		checks []check
	}{
		{"no attribute: always active", ActiveRule{}, []check{{"false", true, false}, {"", true, false}}},
		{"userAccountControl bit 2", ActiveRule{Attribute: "userAccountControl", DisabledBit: 2}, []check{
			{"512", true, false}, {"514", false, false}, {"66050", false, false}, {"66048", true, false},
			{"", true, false}, {"4294967298", false, false}, {"enabled", false, true},
		}},
		{"both lists", ActiveRule{Attribute: "accountEnabled", ActiveValues: []string{"True"}, InactiveValues: []string{"False"}}, []check{
			{"TRUE", true, false}, {" false ", false, false}, {"yes", false, true}, {"", false, true},
		}},
		{"active list only", ActiveRule{Attribute: "status", ActiveValues: []string{"ACTIVE", "staged"}}, []check{
			{"active", true, false}, {"STAGED", true, false}, {"SUSPENDED", false, false}, {"", false, false},
		}},
		{"inactive list only", ActiveRule{Attribute: "status", InactiveValues: []string{"Suspended"}}, []check{
			{"Active", true, false}, {"suspended", false, false}, {"", true, false},
		}},
		{"boolean", ActiveRule{Attribute: "enabled"}, []check{
			{"Yes", true, false}, {"0", false, false}, {"disabled", false, false}, {"perhaps", false, true}, {"", false, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewActive(tt.rule)
			for _, c := range tt.checks {
				got, err := a.Eval(c.value)
				if (err != nil) != c.wantErr {
					t.Errorf("Eval(%q) error = %v, want error %t", c.value, err, c.wantErr)
					continue
				}
				if err == nil && got != c.active {
					t.Errorf("Eval(%q) = %t, want %t", c.value, got, c.active)
				}
			}
		})
	}
}

func TestGroups(t *testing.T) {
	g, err := NewGroups(`^(DB|db)[-_]`, NameRule{
		Prefix: "dbx-", Suffix: "-team", Lowercase: true,
		Replace: []Replacement{{Pattern: `^(?i)db[-_]`, With: ""}, {Pattern: `\s+`, With: "_"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in    string
		match bool
		name  string
	}{
		{"DB-Data Engineers", true, "dbx-data_engineers-team"},
		{"db_ops", true, "dbx-ops-team"},
		{"Sales", false, "dbx-sales-team"},
	}
	for _, tt := range tests {
		if got := g.Match(tt.in); got != tt.match {
			t.Errorf("Match(%q) = %t, want %t", tt.in, got, tt.match)
		}
		if got := g.Name(tt.in); got != tt.name {
			t.Errorf("Name(%q) = %q, want %q", tt.in, got, tt.name)
		}
	}
	if _, err := NewGroups("(", NameRule{}); err == nil {
		t.Error("NewGroups accepted an invalid pattern")
	}
	if _, err := NewGroups("", NameRule{Replace: []Replacement{{Pattern: "["}}}); err == nil {
		t.Error("NewGroups accepted an invalid replacement")
	}
}
