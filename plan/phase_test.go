package plan

import (
	"testing"

	"github.com/scimsync/scimsync/model"
)

// TestPhaseTable checks the phase of every action and kind against the order the package
// documents, and that every phase has a name.
func TestPhaseTable(t *testing.T) {
	want := map[Action]Phase{
		Create: PhaseCreatePrincipals, Update: PhaseUpdate, Rename: PhaseUpdate, Reactivate: PhaseUpdate,
		AddMembers: PhaseMembers, RemoveMembers: PhaseMembers, Assign: PhaseAssign,
		SetEntitlements: PhaseEntitlements, Unassign: PhaseUnassign, Deactivate: PhaseRemove, Delete: PhaseRemove,
	}
	if len(want) != len(Actions) {
		t.Fatalf("the test covers %d actions, the package has %d", len(want), len(Actions))
	}
	for _, a := range Actions {
		for _, k := range []model.Kind{model.KindUser, model.KindServicePrincipal, model.KindGroup} {
			w := want[a]
			if a == Create && k == model.KindGroup {
				w = PhaseCreateGroups
			}
			if got := PhaseOf(&Change{Action: a, Kind: k}); got != w {
				t.Errorf("PhaseOf(%s %s) = %s, want %s", a, k, got, w)
			}
		}
	}
	for i, p := range Phases {
		if int(p) != i || p.String() == "unknown phase" {
			t.Errorf("Phases[%d] = %d (%s)", i, p, p)
		}
	}
}

// TestPhaseOrderWithMemberCreator checks that apply creates principals before groups only
// for a target that creates groups with their members.
func TestPhaseOrderWithMemberCreator(t *testing.T) {
	plain := (&executor{}).phaseOrder()
	if plain[0] != PhaseCreateGroups || plain[1] != PhaseCreatePrincipals {
		t.Errorf("without a MemberCreator the order starts %v, %v", plain[0], plain[1])
	}
	mc := (&executor{mc: memberFake{}}).phaseOrder()
	if mc[0] != PhaseCreatePrincipals || mc[1] != PhaseCreateGroups || len(mc) != len(Phases) {
		t.Errorf("with a MemberCreator the order is %v", mc)
	}
}
