package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/policy"
	"github.com/scimsync/scimsync/synth"
)

// OrgSize counts what a state holds.
type OrgSize struct {
	Users             int `json:"users"`
	ServicePrincipals int `json:"servicePrincipals"`
	Groups            int `json:"groups"`
	// Memberships counts direct memberships, nested groups included.
	Memberships  int `json:"memberships"`
	NestedGroups int `json:"nestedGroups"`
	Workspaces   int `json:"workspaces"`
	Assignments  int `json:"assignments"`
	// Entitlements counts principals with entitlements in a workspace, per workspace.
	Entitlements int `json:"entitlements"`
}

func sizeOf(s *model.State) OrgSize {
	n := OrgSize{Users: len(s.Users), ServicePrincipals: len(s.ServicePrincipals), Groups: len(s.Groups), Workspaces: len(s.Workspaces)}
	for i := range s.Groups {
		n.Memberships += s.Groups[i].Members.Len()
		n.NestedGroups += len(s.Groups[i].Members.Groups)
	}
	for _, w := range s.Workspaces {
		n.Assignments += len(w.Assignments)
		n.Entitlements += len(w.Entitlements)
	}
	return n
}

// resources counts the resources a one-call-per-resource tool (the Terraform provider's
// model) keeps in its state for s: one per user, service principal, group, direct
// membership, workspace assignment and per-workspace entitlement set.
func (n OrgSize) resources() int {
	return n.Users + n.ServicePrincipals + n.Groups + n.Memberships + n.Assignments + n.Entitlements
}

// scenarioStates returns the desired state of a scenario and the live state it starts
// from, both normalised. The live state has no SCIM ids: the emulator's Seed gives them,
// and offline planning gives them with withIDs.
func scenarioStates(seed uint64, spec synth.Spec, scenario string) (desired, live *model.State) {
	org := synth.Org(seed, spec)
	switch scenario {
	case scenarioInitial:
		return org, &model.State{}
	case scenarioNoop:
		return synth.Clone(org), org
	case scenarioChurn:
		return synth.Churn(seed+1, org, churnFraction), org
	case scenarioDeprovision:
		return deprovision(seed+2, org, deprovisionFraction), org
	}
	panic(fmt.Sprintf("bench: unknown scenario %q", scenario))
}

// deprovision returns a copy of s without a fraction of its users, chosen at random with
// seed, and without their memberships, assignments and entitlements: what a source shows
// once those people have left.
func deprovision(seed uint64, s *model.State, fraction float64) *model.State {
	rng := rand.New(rand.NewPCG(seed, 0xde9))
	out := synth.Clone(s)
	gone := map[string]bool{}
	for _, i := range rng.Perm(len(out.Users))[:int(float64(len(out.Users))*fraction)] {
		gone[out.Users[i].Key()] = true
	}
	out.Users = slices.DeleteFunc(out.Users, func(u model.User) bool { return gone[u.Key()] })
	for i := range out.Groups {
		m := &out.Groups[i].Members
		m.Users = slices.DeleteFunc(m.Users, func(k string) bool { return gone[k] })
	}
	left := func(r model.Ref) bool { return r.Kind == model.KindUser && gone[r.Key] }
	for i := range out.Workspaces {
		w := &out.Workspaces[i]
		w.Assignments = slices.DeleteFunc(w.Assignments, func(a model.Assignment) bool { return left(a.Principal) })
		w.Entitlements = slices.DeleteFunc(w.Entitlements, func(e model.PrincipalEntitlements) bool { return left(e.Principal) })
	}
	out.Normalize()
	return out
}

// withIDs gives every object of s a distinct numeric SCIM id, as a snapshot of a live
// account has them.
func withIDs(s *model.State) *model.State {
	id := emulator.DefaultFirstID
	next := func() string {
		id += 7
		return strconv.FormatInt(id, 10)
	}
	for i := range s.Users {
		s.Users[i].ID = next()
	}
	for i := range s.ServicePrincipals {
		s.ServicePrincipals[i].ID = next()
	}
	for i := range s.Groups {
		s.Groups[i].ID = next()
	}
	return s
}

// policyFor returns the policy and options every scenario is planned with: the default
// policy with the emulator's token owners protected (as a real configuration protects its
// own credentials' identities), and the removal guard overridden for churn and
// deprovisioning, as an operator does after reviewing the plan: from size M on, 1% churn
// deactivates more users (50) than the default guard lets through (25).
func policyFor(scenario, host string) (policy.Policy, plan.Options) {
	pol := policy.Default()
	pol.Protected.Users = []string{emulator.DefaultMeUserName}
	pol.Protected.ServicePrincipals = []string{emulator.DefaultClientID}
	opts := plan.Options{
		Target:         targetOf(host),
		ToolVersion:    "bench",
		OverrideGuards: scenario == scenarioChurn || scenario == scenarioDeprovision,
	}
	return pol, opts
}

func targetOf(host string) plan.TargetID {
	return plan.TargetID{Level: model.LevelAccount, Host: host, AccountID: emulator.DefaultAccountID}
}

// perResourceWrites counts the calls a one-call-per-resource tool makes to carry out p:
// one per object created, updated, renamed, (de)activated or deleted, one per member added
// or removed, one per assignment or unassignment, and one per per-workspace entitlement
// change.
func perResourceWrites(p *plan.Plan) int {
	n := 0
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == plan.AddMembers || c.Action == plan.RemoveMembers {
			n += len(c.Members)
			continue
		}
		n++
	}
	return n
}
