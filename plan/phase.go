package plan

import "github.com/scimsync/scimsync/model"

// Phase is a step of apply. Diff orders a plan's changes by phase, apply runs the phases
// one after the other (the changes within one concurrently), and the renderers list
// changes in phase order.
type Phase int

// The phases of apply, in the order Diff sorts them. phases holds the rule that puts a
// change in each one.
const (
	PhaseCreateGroups Phase = iota
	PhaseCreatePrincipals
	PhaseUpdate
	PhaseMembers
	PhaseAssign
	PhaseEntitlements
	PhaseUnassign
	PhaseRemove
)

// phase describes one Phase: its name and the rule that puts a change in it.
type phase struct {
	name string
	// holds reports whether a change belongs to the phase. The first phase in the table
	// that holds a change is its phase.
	holds func(a Action, k model.Kind) bool
}

// phases is the phase table, indexed by Phase. Groups are created first, then users and
// service principals (apply swaps the two for a MemberCreator, see executor.phaseOrder);
// then attributes change, then memberships, then workspace assignments. A workspace shows
// only the principals assigned to it (directly or through a group), so entitlements there
// change between assigning and unassigning. Deactivations and deletions come last.
var phases = [...]phase{
	PhaseCreateGroups:     {"create groups", func(a Action, k model.Kind) bool { return a == Create && k == model.KindGroup }},
	PhaseCreatePrincipals: {"create users and service principals", func(a Action, _ model.Kind) bool { return a == Create }},
	PhaseUpdate:           {"update attributes", func(a Action, _ model.Kind) bool { return a == Update || a == Rename || a == Reactivate }},
	PhaseMembers:          {"memberships", func(a Action, _ model.Kind) bool { return a.IsMembership() }},
	PhaseAssign:           {"workspace assignments", func(a Action, _ model.Kind) bool { return a == Assign }},
	PhaseEntitlements:     {"workspace entitlements", func(a Action, _ model.Kind) bool { return a == SetEntitlements }},
	PhaseUnassign:         {"workspace unassignments", func(a Action, _ model.Kind) bool { return a == Unassign }},
	PhaseRemove:           {"deactivations and deletions", func(a Action, _ model.Kind) bool { return a.IsRemoval() }},
}

// Phases lists every phase in plan order.
var Phases = func() []Phase {
	out := make([]Phase, len(phases))
	for i := range out {
		out[i] = Phase(i)
	}
	return out
}()

// String returns the phase's name, such as "create groups".
func (p Phase) String() string {
	if p < 0 || int(p) >= len(phases) {
		return "unknown phase"
	}
	return phases[p].name
}

// PhaseOf returns the phase of a change: the first in the phase table whose rule holds it.
// Every action has a phase; a change whose action is unknown (which Decode refuses) falls
// in the last.
func PhaseOf(c *Change) Phase {
	for i := range phases {
		if phases[i].holds(c.Action, c.Kind) {
			return Phase(i)
		}
	}
	return PhaseRemove
}
