package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
)

// Recheck holds what apply trusts more than a plan file. The checksum of a plan file
// catches accidents, not forgeries: whoever can write the file can recompute it, and so
// its policy, protected list, guard override and fingerprints are claims. VerifyWith checks
// the plan's changes against the live state and against these, whatever the file says.
type Recheck struct {
	// Policy is the policy of the config apply runs with. Its protected identities are
	// protected on top of the plan's, and the stricter of its guards and the plan's apply.
	// The zero Policy adds nothing.
	Policy policy.Policy
	// Identity is the identity that owns the credentials, when known: never changed.
	Identity *model.Ref
	// AllowMassRemoval is the apply command's own --allow-mass-removal. A plan that trips
	// the guards is refused without it, even when the file says it was made with it.
	AllowMassRemoval bool
	// AllowAdminRemoval is the apply command's own --allow-admin-removal: a plan that
	// trips the admin guard (admins.go) against the live state is refused without it,
	// whatever the file says.
	AllowAdminRemoval bool
	// Refresh re-reads the whole live state, as a plan does, instead of only the objects
	// the plan touches.
	Refresh bool
}

// RefusedError reports a plan whose changes do not fit the live state or the policy the
// way a plan made by scimsync would: a change without a fingerprint, an id that names
// another object, a protected identity or a built-in group changed. Such a plan was edited.
type RefusedError struct {
	Problems []string
}

func (e *RefusedError) Error() string {
	const show = 5
	list, more := e.Problems, ""
	if len(list) > show {
		list, more = list[:show], fmt.Sprintf("; and %d more", len(e.Problems)-show)
	}
	return fmt.Sprintf("plan refused: %s%s", strings.Join(list, "; "), more)
}

// Hint tells the user how to proceed.
func (e *RefusedError) Hint() string {
	return "the plan file was edited or made by something else than scimsync plan; make a new plan and review it"
}

// AdminReader is implemented by targets that can read what the admin guard counts
// without reading every group's members: every principal with its roles and active flag,
// every group with its roles, and the members of the groups that hold account_admin,
// nested ones included. VerifyWith uses it at account level for a plan that may take an
// admin away. The SCIM client implements it.
type AdminReader interface {
	ReadAccountAdmins(ctx context.Context) (*model.State, error)
}

// ObjectReader is implemented by targets that can read some live objects without reading
// them all. VerifyWith then re-reads only what a plan touches. The SCIM client implements
// it.
type ObjectReader interface {
	// ReadObjects reads the users, service principals and groups refs name, as Snapshot
	// returns them but with groups without members; an object that does not exist is
	// left out. ids gives the SCIM id each ref had when the plan was made, where it had
	// one.
	ReadObjects(ctx context.Context, refs []model.Ref, ids map[model.Ref]string) (*model.State, error)
	// CountObjects returns how many users, service principals and groups exist, in all.
	CountObjects(ctx context.Context) (int, error)
}

// VerifyWith is Verify with the checks of rc. It refuses, before any write, a plan of
// another version or target, a stale plan, and a plan whose changes rc.check refuses. An
// empty plan is checked without a read. Otherwise it reads the objects the plan's
// fingerprints name, and how many objects exist (the removal guards' share is of these),
// with a target that implements ObjectReader, and the workspaces whose assignments or
// entitlements the plan changes; with rc.Refresh, or another target, the whole live state.
func VerifyWith(ctx context.Context, p *Plan, t Target, target TargetID, rc Recheck) error {
	if err := checkVersion(p.FormatVersion); err != nil {
		return err
	}
	if p.Target != target {
		return &TargetMismatchError{Plan: p.Target, Target: target}
	}
	if p.Empty() && !rc.Refresh {
		return nil // nothing to apply: nothing can be stale or refused
	}
	var (
		refs       []model.Ref
		ids        = map[model.Ref]string{}
		workspaces []model.Workspace
	)
	for _, f := range p.Fingerprints {
		switch f.Kind {
		case FingerprintUser, FingerprintServicePrincipal, FingerprintGroup:
			r := model.Ref{Kind: model.Kind(f.Kind), Key: f.Key}
			refs = append(refs, r)
			if f.ID != "" {
				ids[r] = f.ID
			}
		default:
			for _, w := range p.Workspaces {
				if w.ID == f.Key && !slices.ContainsFunc(workspaces, func(x model.Workspace) bool { return x.ID == w.ID }) {
					workspaces = append(workspaces, w)
				}
			}
		}
	}
	var (
		live  *model.State
		count = -1 // the live objects, when only some were read
		err   error
	)
	or, partial := t.(ObjectReader)
	// The admin guard counts admins through groups, whose members a partial read leaves
	// out: a plan that may take an admin away is checked against what an AdminReader reads
	// at account level, and against the whole state otherwise.
	admins := !rc.AllowAdminRemoval && mayRemoveAdmins(p)
	ar, canReadAdmins := t.(AdminReader)
	canReadAdmins = canReadAdmins && p.Target.Level == model.LevelAccount
	whole := rc.Refresh || !partial || len(workspaces) > 0 || (admins && !canReadAdmins)
	var adminLive *model.State
	if whole {
		ws := p.Workspaces
		if !rc.Refresh && len(workspaces) > 0 {
			ws = workspaces
		}
		live, err = t.Snapshot(ctx, ws)
	} else {
		live, err = or.ReadObjects(ctx, refs, ids)
		if err == nil && hasRemovals(p) {
			count, err = or.CountObjects(ctx)
		}
		if err == nil && admins {
			adminLive, err = ar.ReadAccountAdmins(ctx)
		}
	}
	if err != nil {
		return err
	}
	if err := p.CheckStale(live); err != nil {
		return err
	}
	return rc.check(p, live, count, adminLive)
}

func hasRemovals(p *Plan) bool {
	return slices.ContainsFunc(p.Changes, func(c Change) bool { return c.Action.IsRemoval() })
}

// check refuses a plan whose changes a plan made by Diff against live could not hold:
//   - every change has a valid payload (Change.check);
//   - every object a change touches, and every member it adds or removes, has a
//     fingerprint: "absent" for one the plan creates, else one with the change's id, and
//     the live object with that id has the change's key;
//   - no change touches a protected identity (the plan's, rc's, the credentials') or a
//     built-in group, or removes one from a group;
//   - the removals stay within the stricter of the plan's and rc's guards, unless
//     rc.AllowMassRemoval;
//   - the admin guard holds against the live state, unless rc.AllowAdminRemoval.
//
// live holds at least the objects the plan touches; count, when not negative, is how many
// objects exist (live then holds only some of them). admins, when not nil, is what the
// admin guard counts instead of live (see AdminReader).
func (rc Recheck) check(p *Plan, live *model.State, count int, admins *model.State) error {
	r := newRechecker(p, live, rc)
	r.count = len(r.byID)
	if count >= 0 {
		r.count = count
	}
	for i := range p.Changes {
		r.change(i, &p.Changes[i])
	}
	if len(r.problems) > 0 {
		return &RefusedError{Problems: r.problems}
	}
	if err := r.guard(p, rc); err != nil {
		return err
	}
	if rc.AllowAdminRemoval {
		return nil
	}
	var wss []string
	for _, w := range p.Workspaces {
		wss = append(wss, w.ID)
	}
	if admins == nil {
		admins = live
	}
	return checkAdmins(admins, p, max(p.Policy.Guards.MinAdmins, rc.Policy.Guards.MinAdmins), p.Target.Level, wss)
}

type rechecker struct {
	fps       map[string]Fingerprint // kind + "\x00" + key
	byID      map[string]model.Ref   // kind + "\x00" + id → the live object's ref
	protected map[model.Ref]string   // → why
	renamed   map[string]string      // id of a group the plan renames → its new key
	count     int                    // live users, service principals and groups
	problems  []string
}

func newRechecker(p *Plan, live *model.State, rc Recheck) *rechecker {
	r := &rechecker{fps: map[string]Fingerprint{}, byID: map[string]model.Ref{}, protected: map[model.Ref]string{}, renamed: map[string]string{}}
	for _, c := range p.Changes {
		if c.Action == Rename && c.Kind == model.KindGroup && c.ID != "" {
			r.renamed[c.ID] = c.Key
		}
	}
	for _, f := range p.Fingerprints {
		r.fps[string(f.Kind)+"\x00"+f.Key] = f
	}
	for i := range live.Users {
		u := &live.Users[i]
		r.byID[string(model.KindUser)+"\x00"+u.ID] = model.Ref{Kind: model.KindUser, Key: u.Key()}
	}
	for i := range live.ServicePrincipals {
		s := &live.ServicePrincipals[i]
		r.byID[string(model.KindServicePrincipal)+"\x00"+s.ID] = model.Ref{Kind: model.KindServicePrincipal, Key: s.Key()}
	}
	for i := range live.Groups {
		g := &live.Groups[i]
		ref := model.Ref{Kind: model.KindGroup, Key: g.Key()}
		r.byID[string(model.KindGroup)+"\x00"+g.ID] = ref
		if model.IsReservedGroup(g.DisplayName) {
			r.protected[ref] = "a built-in group"
		}
	}
	for _, pol := range []policy.Protected{p.Policy.Protected, rc.Policy.Protected} {
		for _, u := range pol.Users {
			r.protected[model.Ref{Kind: model.KindUser, Key: model.UserKey(u)}] = "protected by the policy"
		}
		for _, g := range pol.Groups {
			r.protected[model.Ref{Kind: model.KindGroup, Key: model.GroupKey(g)}] = "protected by the policy"
		}
		for _, name := range pol.ServicePrincipals {
			// Every live principal the name could mean, look-alikes included.
			for i := range live.ServicePrincipals {
				s := &live.ServicePrincipals[i]
				if s.Key() == model.ServicePrincipalKey(name) || strings.TrimSpace(s.DisplayName) == strings.TrimSpace(name) {
					r.protected[model.Ref{Kind: model.KindServicePrincipal, Key: s.Key()}] = "protected by the policy"
				}
			}
		}
	}
	for _, ref := range p.Protected {
		r.protected[ref] = "protected by the plan's policy"
	}
	if id := rc.Identity; id != nil {
		ref := *id
		for i := range live.ServicePrincipals {
			if s := &live.ServicePrincipals[i]; ref.Kind == model.KindServicePrincipal && (s.Key() == model.ServicePrincipalKey(ref.Key) || s.DisplayName == ref.Key) {
				ref.Key = s.Key()
			}
		}
		r.protected[ref] = "the identity of the credentials"
	}
	return r
}

func (r *rechecker) problemf(i int, c *Change, format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf("change %d (%s): %s", i+1, describe(c), fmt.Sprintf(format, args...)))
}

func (r *rechecker) change(i int, c *Change) {
	if err := c.check(); err != nil {
		r.problemf(i, c, "%v", err)
		return
	}
	switch c.Action {
	case Create:
		r.createdHere(i, c, c.Ref())
		return
	case Assign, Unassign:
		r.workspace(i, c, FingerprintAssignments)
	case SetEntitlements:
		r.workspace(i, c, FingerprintEntitlements)
	}
	ref, ok := r.object(i, c, c.Ref(), c.ID, c.Action != Rename)
	if !ok {
		return
	}
	if why, ok := r.protected[ref]; ok {
		r.problemf(i, c, "%s is %s and is never changed", ref, why)
	}
	for _, m := range c.Members {
		mref, ok := r.object(i, c, model.Ref{Kind: m.Kind, Key: m.Key}, m.ID, false)
		if why, prot := r.protected[mref]; ok && prot && c.Action == RemoveMembers {
			r.problemf(i, c, "removes %s, %s, from a group", mref, why)
		}
	}
}

// object finds the live object a change or member names by id and returns its ref. It
// reports an id that names no live object of the kind, a live object without a
// fingerprint of that id in the plan, and, when sameKey, a live object whose key is not
// the one the change names (or, for a group the plan renames, its new name). An object without an id must be one the plan creates; ok is
// false then, and when a problem was reported.
func (r *rechecker) object(i int, c *Change, named model.Ref, id string, sameKey bool) (model.Ref, bool) {
	if id == "" {
		r.createdHere(i, c, named)
		return named, false
	}
	ref, ok := r.byID[string(named.Kind)+"\x00"+id]
	if !ok {
		r.problemf(i, c, "no live %s has id %s", named.Kind, id)
		return named, false
	}
	if f, ok := r.fps[string(ref.Kind)+"\x00"+ref.Key]; !ok || f.ID != id {
		r.problemf(i, c, "%s (id %s) has no fingerprint in the plan", ref, id)
		return ref, false
	}
	if sameKey && ref != named && !(named.Kind == model.KindGroup && r.renamed[id] == named.Key) {
		r.problemf(i, c, "id %s is %s in the account, not %s", id, ref, named)
		return ref, false
	}
	return ref, true
}

// createdHere checks that an object without an id is one the plan creates.
func (r *rechecker) createdHere(i int, c *Change, ref model.Ref) {
	if f, ok := r.fps[string(ref.Kind)+"\x00"+ref.Key]; !ok || f.Digest != Absent {
		r.problemf(i, c, "%s has no id and the plan has no fingerprint saying it does not exist yet", ref)
	}
}

// workspace checks that a workspace change has the fingerprint of the workspace's
// assignments or entitlements.
func (r *rechecker) workspace(i int, c *Change, kind FingerprintKind) {
	if _, ok := r.fps[string(kind)+"\x00"+c.Workspace]; !ok {
		r.problemf(i, c, "workspace %s has no %s fingerprint in the plan", c.Workspace, kind)
	}
}

// guard counts the plan's removals itself and applies the stricter of the plan's and
// rc's guards, against the managed identities the plan's summary claims (a smaller claim
// only makes the percentage guard stricter) or, when that is larger than the live state
// can hold, the live count.
func (r *rechecker) guard(p *Plan, rc Recheck) error {
	n := 0
	for i := range p.Changes {
		if p.Changes[i].Action.IsRemoval() {
			n++
		}
	}
	if n == 0 || rc.AllowMassRemoval {
		return nil
	}
	managed := min(p.Summary.Managed, r.count)
	if managed <= 0 {
		managed = r.count
	}
	g := stricter(p.Policy.Guards, rc.Policy.Guards)
	switch {
	case g.MaxRemovals > 0 && n > g.MaxRemovals:
		return &GuardError{Removals: n, Managed: managed,
			Reason: fmt.Sprintf("the plan deactivates or deletes %d identities, more than policy.guards.maxRemovals (%d)", n, g.MaxRemovals)}
	case g.MaxRemovalPercent > 0 && managed > 0 && float64(n)*100/float64(managed) > g.MaxRemovalPercent:
		return &GuardError{Removals: n, Managed: managed,
			Reason: fmt.Sprintf("the plan deactivates or deletes %d of %d managed identities (%.1f%%), more than policy.guards.maxRemovalPercent (%g%%)",
				n, managed, float64(n)*100/float64(managed), g.MaxRemovalPercent)}
	}
	return nil
}

// stricter returns the smaller non-zero limit of each guard.
func stricter(a, b policy.Guards) policy.Guards {
	pick := func(x, y float64) float64 {
		switch {
		case x == 0:
			return y
		case y == 0:
			return x
		}
		return min(x, y)
	}
	return policy.Guards{
		MaxRemovals:       int(pick(float64(a.MaxRemovals), float64(b.MaxRemovals))),
		MaxRemovalPercent: pick(a.MaxRemovalPercent, b.MaxRemovalPercent),
	}
}
