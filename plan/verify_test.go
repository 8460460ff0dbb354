package plan

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/synth"
)

// readerFake is the fake target with ObjectReader, counting the reads of each kind.
type readerFake struct {
	*fakeTarget
	snapshots, reads, counts int
	refs                     []model.Ref
}

func (r *readerFake) Snapshot(ctx context.Context, ws []model.Workspace) (*model.State, error) {
	r.snapshots++
	return r.fakeTarget.Snapshot(ctx, ws)
}

func (r *readerFake) CountObjects(ctx context.Context) (int, error) {
	r.counts++
	all, err := r.fakeTarget.Snapshot(ctx, nil)
	if err != nil {
		return 0, err
	}
	return len(all.Users) + len(all.ServicePrincipals) + len(all.Groups), nil
}

func (r *readerFake) ReadObjects(ctx context.Context, refs []model.Ref, _ map[model.Ref]string) (*model.State, error) {
	r.reads++
	r.refs = append(r.refs, refs...)
	all, err := r.fakeTarget.Snapshot(ctx, nil)
	if err != nil {
		return nil, err
	}
	want := map[model.Ref]bool{}
	for _, ref := range refs {
		want[ref] = true
	}
	out := &model.State{}
	for _, u := range all.Users {
		if want[model.Ref{Kind: model.KindUser, Key: u.Key()}] {
			out.Users = append(out.Users, u)
		}
	}
	for _, p := range all.ServicePrincipals {
		if want[model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()}] {
			out.ServicePrincipals = append(out.ServicePrincipals, p)
		}
	}
	for _, g := range all.Groups {
		if want[model.Ref{Kind: model.KindGroup, Key: g.Key()}] {
			g.Members = model.Members{}
			out.Groups = append(out.Groups, g)
		}
	}
	return out, nil
}

// TestVerifyReadsOnlyWhatThePlanTouches checks that a saved plan records fingerprints of
// the objects it changes and no others, that Verify re-reads only those (no full read),
// that a change to an object the plan does not touch leaves it valid and a change to one
// it touches makes it stale.
func TestVerifyReadsOnlyWhatThePlanTouches(t *testing.T) {
	desired := synth.Org(1, synth.Spec{Users: 20, Groups: 4, Memberships: 30, Depth: 2})
	live := synth.Clone(desired)
	live.Users[3].DisplayName = "Before The Plan"
	f, p := setup(t, desired, live)
	if len(p.Changes) != 1 || len(p.Fingerprints) != 1 || p.Fingerprints[0].Key != desired.Users[3].Key() {
		t.Fatalf("plan: %d changes, fingerprints %+v; want one change and the fingerprint of its user", len(p.Changes), p.Fingerprints)
	}
	r := &readerFake{fakeTarget: f}
	if err := Verify(context.Background(), p, r, testTarget); err != nil {
		t.Fatal(err)
	}
	want := []model.Ref{{Kind: model.KindUser, Key: desired.Users[3].Key()}}
	if r.snapshots != 0 || r.reads != 1 || !slices.Equal(r.refs, want) {
		t.Fatalf("%d full reads, %d object reads of %v; want one read of %v", r.snapshots, r.reads, r.refs, want)
	}
	for _, u := range f.users {
		if u.Key() == desired.Users[5].Key() {
			u.DisplayName = "Changed Elsewhere"
		}
	}
	if err := Verify(context.Background(), p, r, testTarget); err != nil {
		t.Errorf("a change to an object the plan does not touch made it stale: %v", err)
	}
	for _, u := range f.users {
		if u.Key() == desired.Users[3].Key() {
			u.DisplayName = "Changed Elsewhere"
		}
	}
	var stale *StaleError
	if err := Verify(context.Background(), p, r, testTarget); !errors.As(err, &stale) {
		t.Errorf("a change to the object the plan updates: %v, want a StaleError", err)
	}
	r.snapshots = 0
	if err := VerifyWith(context.Background(), p, r, testTarget, Recheck{Refresh: true}); !errors.As(err, &stale) || r.snapshots != 1 {
		t.Errorf("refresh: %v after %d full reads, want a StaleError after one", err, r.snapshots)
	}
}

// TestVerifyEmptyPlanReadsNothing checks that an empty plan is verified without a read.
func TestVerifyEmptyPlanReadsNothing(t *testing.T) {
	desired := synth.Org(2, synth.Spec{Users: 10, Groups: 2, Memberships: 10, Depth: 1})
	f, p := setup(t, desired, synth.Clone(desired))
	if !p.Empty() || len(p.Fingerprints) != 0 {
		t.Fatalf("plan: %d changes, %d fingerprints; want none", len(p.Changes), len(p.Fingerprints))
	}
	r := &readerFake{fakeTarget: f}
	if err := Verify(context.Background(), p, r, testTarget); err != nil || r.snapshots+r.reads != 0 {
		t.Errorf("err %v after %d full and %d partial reads; want none", err, r.snapshots, r.reads)
	}
}

// TestVerifyRefusesChangesWithoutFingerprints checks that a plan whose changed objects have
// no fingerprint (a forged file: the checksum is not a signature) is refused before any
// write, and that the read it makes is of the fingerprinted objects only.
func TestVerifyRefusesChangesWithoutFingerprints(t *testing.T) {
	desired := synth.Org(3, synth.Spec{Users: 10, Groups: 2, Memberships: 10, Depth: 1})
	live := synth.Clone(desired)
	live.Users = live.Users[:8]
	live.Users[0].DisplayName = "Old"
	f, p := setup(t, desired, live)
	p.Fingerprints = nil
	r := &readerFake{fakeTarget: f}
	var re *RefusedError
	err := Verify(context.Background(), p, r, testTarget)
	if !errors.As(err, &re) || r.snapshots != 0 || len(r.refs) != 0 || len(f.calls) != 0 {
		t.Fatalf("err %v, %d full reads, objects read %v, calls %v; want a RefusedError and nothing else", err, r.snapshots, r.refs, f.calls)
	}
	for _, u := range desired.Users[8:] {
		if !strings.Contains(err.Error(), "user:"+u.Key()) && len(re.Problems) <= 5 {
			t.Errorf("%v does not name the created user %s", err, u.Key())
		}
	}
}

// TestVerifyGuardCountsTheLiveObjects checks that with a partial read the removal guard's
// share is of the live objects counted (CountObjects), not of the few objects read. (A
// plan that may take an admin away is read whole unless the admin guard is overridden:
// see TestVerifyReadsWholeWhenAdminsMayGo.)
func TestVerifyGuardCountsTheLiveObjects(t *testing.T) {
	desired := synth.Org(4, synth.Spec{Users: 40, Groups: 4, Memberships: 40, Depth: 1})
	live := synth.Clone(desired)
	desired.Users = desired.Users[:37] // 3 of 44 objects: under 10%, but all of those read
	f, p := setup(t, desired, live)
	p.Policy.Guards.MaxRemovalPercent = 10
	r := &readerFake{fakeTarget: f}
	if err := VerifyWith(context.Background(), p, r, testTarget, Recheck{Policy: p.Policy, AllowAdminRemoval: true}); err != nil || r.counts != 1 {
		t.Fatalf("err %v after %d counts; want the plan accepted after one count", err, r.counts)
	}
}

// TestVerifyReadsWholeWhenAdminsMayGo checks that a plan that deactivates users is checked
// against the whole live state while the admin guard holds, when the target cannot read
// the admins alone (no AdminReader): an account admin may be one through a group, whose
// members a partial read leaves out. The SCIM client is an AdminReader (scim
// TestReadAccountAdmins; cli guards.txtar refuses such a plan on apply).
func TestVerifyReadsWholeWhenAdminsMayGo(t *testing.T) {
	desired := synth.Org(4, synth.Spec{Users: 40, Groups: 4, Memberships: 40, Depth: 1})
	live := synth.Clone(desired)
	desired.Users = desired.Users[:39]
	f, p := setup(t, desired, live)
	r := &readerFake{fakeTarget: f}
	if err := VerifyWith(context.Background(), p, r, testTarget, Recheck{Policy: p.Policy}); err != nil || r.snapshots != 1 || len(r.refs) != 0 {
		t.Fatalf("err %v, %d full reads, objects read %v; want one full read", err, r.snapshots, r.refs)
	}
}
