package plan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scimsync/scimsync/audit"
	"github.com/scimsync/scimsync/model"
)

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Target is the target the plan is applied to; a plan made for another is refused.
	Target TargetID
	// BatchSize is the most members added or removed in one PATCH (default 100).
	BatchSize int
	// Concurrency is the most changes in flight at once (default 8). The target's own rate
	// limiter decides the request rate.
	Concurrency int
	// Stop, when closed, lets in-flight changes finish and starts no new ones: the first
	// Ctrl-C. Cancelling ctx aborts in-flight requests too: the second.
	Stop <-chan struct{}
	// Audit receives one record per change. Nil discards.
	Audit *audit.Log
	// Progress is called after each change with the number done and the total.
	Progress func(done, total int)
	Logger   *slog.Logger
	Now      func() time.Time
}

// Status is the outcome of one change.
type Status string

// The outcomes of a change.
const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped" // not attempted because something it needs failed
	StatusNotRun  Status = "not-run" // not attempted because apply was stopped
)

// ChangeResult is the outcome of one change of the plan.
type ChangeResult struct {
	Index    int
	Change   *Change
	Status   Status
	Err      error
	Attempts int
	Duration time.Duration
}

// Result is the outcome of Apply, with one entry per change in plan order.
type Result struct {
	Changes []ChangeResult
	OK      int
	Failed  int
	Skipped int
	NotRun  int
	Stopped bool
	// Halted says why apply stopped on its own, when it did: a change whose payload is
	// invalid (found before any write), credentials Databricks rejected, or an internal
	// error. The changes it did not start are not run.
	Halted error
}

// Err returns an error when any change did not succeed.
func (r *Result) Err() error {
	if r.Failed+r.Skipped+r.NotRun == 0 && r.Halted == nil {
		return nil
	}
	return &ApplyError{Result: r}
}

// ApplyError reports an apply in which some changes failed, were skipped or did not run.
type ApplyError struct{ Result *Result }

func (e *ApplyError) Error() string {
	r := e.Result
	msg := fmt.Sprintf("apply incomplete: %d of %d changes done, %d failed, %d skipped, %d not run", r.OK, len(r.Changes), r.Failed, r.Skipped, r.NotRun)
	if r.Halted != nil {
		msg = fmt.Sprintf("apply stopped: %v; %d of %d changes done, %d failed, %d skipped, %d not run", r.Halted, r.OK, len(r.Changes), r.Failed, r.Skipped, r.NotRun)
	}
	for _, c := range r.Changes {
		if c.Status == StatusFailed {
			return msg + "; first failure: " + describe(c.Change) + ": " + c.Err.Error()
		}
	}
	return msg
}

// Hint tells the user what to do next.
func (e *ApplyError) Hint() string {
	return "run plan again: it shows exactly what is left, and nothing done is repeated"
}

// TargetMismatchError reports a plan made for another target.
type TargetMismatchError struct{ Plan, Target TargetID }

func (e *TargetMismatchError) Error() string {
	return fmt.Sprintf("the plan was made for %s, not for %s", e.Plan, e.Target)
}

// Hint tells the user how to proceed.
func (e *TargetMismatchError) Hint() string {
	return "point scimsync at the plan's target (DATABRICKS_HOST, DATABRICKS_ACCOUNT_ID, the config's target or profile), or make a new plan for this one"
}

// Apply carries out a plan against a target: Verify, then Execute. It runs the changes in
// phases (see Phase), concurrently within a phase, and reports the results in plan order.
// A target that is a MemberCreator gets its users and service principals created before
// its groups, and each new group created with its members.
// A failed change does not stop the changes that do not depend on it.
func Apply(ctx context.Context, p *Plan, t Target, opts ApplyOptions) (*Result, error) {
	if err := Verify(ctx, p, t, opts.Target); err != nil {
		return nil, err
	}
	return Execute(ctx, p, t, opts), nil
}

// Verify refuses a plan of another format version, a plan made for another target, a
// stale plan (one whose live objects changed since it was made) and a plan whose changes
// do not fit the live state as Recheck describes. It reads the live state. It takes the
// plan's guard overrides at their word; the command line passes its own with VerifyWith.
func Verify(ctx context.Context, p *Plan, t Target, target TargetID) error {
	return VerifyWith(ctx, p, t, target, Recheck{AllowMassRemoval: p.GuardOverride, AllowAdminRemoval: p.AdminGuardOverride})
}

// Execute runs the changes of a plan without the checks of Apply. It is for callers that
// have just made the plan from a fresh live state (apply --auto-approve).
func Execute(ctx context.Context, p *Plan, t Target, opts ApplyOptions) *Result {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 100
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	x := &executor{p: p, t: t, opts: opts, ids: map[model.Ref]string{}, failed: map[model.Ref]error{},
		results: make([]ChangeResult, len(p.Changes))}
	for i := range p.Changes {
		x.results[i] = ChangeResult{Index: i, Change: &p.Changes[i], Status: StatusNotRun}
	}
	// Every payload is checked before the first write: a plan that reached Execute without
	// Decode (or was changed in memory) must not fail, or panic, half way.
	for i := range p.Changes {
		if err := p.Changes[i].check(); err != nil {
			x.halt = fmt.Errorf("change %d (%s) is invalid, so nothing was applied: %w", i+1, describe(&p.Changes[i]), err)
			break
		}
	}
	if mc, ok := t.(MemberCreator); ok {
		x.mc, x.addOf = mc, map[string]int{}
		for i := range p.Changes {
			if c := &p.Changes[i]; c.Action == AddMembers && c.ID == "" {
				x.addOf[c.Key] = i // the group is created by this plan
			}
		}
	}
	for _, phase := range x.phaseOrder() {
		if x.stopped(ctx) {
			break
		}
		x.runPhase(ctx, phase)
	}
	res := &Result{Changes: x.results, Stopped: x.stopped(ctx), Halted: x.halted()}
	for _, r := range x.results {
		switch r.Status {
		case StatusOK:
			res.OK++
		case StatusFailed:
			res.Failed++
		case StatusSkipped:
			res.Skipped++
		case StatusNotRun:
			res.NotRun++
		}
	}
	return res
}

type executor struct {
	p    *Plan
	t    Target
	opts ApplyOptions

	mu      sync.Mutex
	ids     map[model.Ref]string // SCIM ids of objects created by this apply
	failed  map[model.Ref]error  // objects whose create failed
	results []ChangeResult
	done    int

	// mc is the target when it can create a group with members, else nil; addOf maps the
	// key of a group the plan creates to the index of its AddMembers change.
	mc    MemberCreator
	addOf map[string]int

	// halt, once set, stops the apply: no change starts after it (see Result.Halted).
	halt error
}

// stop halts the apply for err, unless it is halted already.
func (x *executor) stop(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.halt == nil {
		x.halt = err
	}
}

func (x *executor) halted() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.halt
}

// credentialsRejecter is implemented by the errors of a target whose credentials were
// rejected (a 401); no later change can succeed.
type credentialsRejecter interface{ CredentialsRejected() bool }

// task is one unit of work: a single change, or the membership changes of one group.
type task struct {
	idx []int
}

func (x *executor) stopped(ctx context.Context) bool {
	if ctx.Err() != nil || x.halted() != nil {
		return true
	}
	select {
	case <-x.opts.Stop:
		return true
	default:
		return false
	}
}

// phaseOrder returns the phases in the order they run: plan order, except that with a
// MemberCreator users and service principals are created before the groups that get
// them as members.
func (x *executor) phaseOrder() []Phase {
	order := slices.Clone(Phases)
	if x.mc != nil {
		i, j := slices.Index(order, PhaseCreateGroups), slices.Index(order, PhaseCreatePrincipals)
		order[i], order[j] = order[j], order[i]
	}
	return order
}

func (x *executor) runPhase(ctx context.Context, phase Phase) {
	var tasks []task
	byGroup := map[string]int{}
	for i := range x.p.Changes {
		c := &x.p.Changes[i]
		if PhaseOf(c) != phase || x.results[i].Status != StatusNotRun {
			continue // another phase's, or done with its group's create
		}
		if c.Action.IsMembership() {
			if j, ok := byGroup[c.Key]; ok {
				tasks[j].idx = append(tasks[j].idx, i)
				continue
			}
			byGroup[c.Key] = len(tasks)
		}
		tasks = append(tasks, task{idx: []int{i}})
	}
	if len(tasks) == 0 {
		return
	}
	x.opts.Logger.Debug("apply phase", "phase", phase.String(), "tasks", len(tasks))
	if phase == PhaseCreateGroups && x.mc != nil {
		for _, wave := range x.waves(tasks) {
			if x.stopped(ctx) {
				return
			}
			x.runTasks(ctx, wave)
		}
		return
	}
	x.runTasks(ctx, tasks)
}

// waves orders the group creates of a MemberCreator so that a group is created after the
// new groups nested in it, whose ids its create then carries: wave n holds the groups whose
// new member groups are all in earlier waves. Groups in a cycle (which validation refuses)
// get no order, and the members not yet created when their create runs are reported as
// left out.
func (x *executor) waves(tasks []task) [][]task {
	level := map[string]int{} // -1 while its members are being leveled
	var levelOf func(key string) int
	levelOf = func(key string) int {
		if l, ok := level[key]; ok {
			return max(l, 0)
		}
		level[key] = -1
		l := 0
		if j, ok := x.addOf[key]; ok {
			for _, m := range x.p.Changes[j].Members {
				if m.Kind == model.KindGroup && m.ID == "" {
					l = max(l, levelOf(m.Key)+1)
				}
			}
		}
		level[key] = l
		return l
	}
	var out [][]task
	for _, tk := range tasks {
		l := levelOf(x.p.Changes[tk.idx[0]].Key)
		for len(out) <= l {
			out = append(out, nil)
		}
		out[l] = append(out[l], tk)
	}
	return out
}

// runTasks runs tasks on Concurrency workers until they are done or apply is stopped.
func (x *executor) runTasks(ctx context.Context, tasks []task) {
	if len(tasks) == 0 {
		return
	}
	work := make(chan task)
	var wg sync.WaitGroup
	for range min(x.opts.Concurrency, len(tasks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tk := range work {
				// A task handed over just as apply stopped does not start.
				if !x.stopped(ctx) {
					x.run(ctx, tk)
				}
			}
		}()
	}
feed:
	for _, tk := range tasks {
		if x.stopped(ctx) {
			break
		}
		select {
		case work <- tk:
		case <-ctx.Done():
			break feed
		case <-x.opts.Stop:
			break feed
		}
	}
	close(work)
	wg.Wait()
}

func (x *executor) run(ctx context.Context, tk task) {
	start := x.opts.Now()
	trace := &audit.Trace{}
	tctx := audit.WithTrace(ctx, trace)
	status, errs := x.attempt(tctx, tk)
	for _, err := range errs {
		var rej credentialsRejecter
		if errors.As(err, &rej) && rej.CredentialsRejected() {
			x.stop(fmt.Errorf("Databricks rejected the credentials: %w", err))
		}
	}
	reqs, attempts := trace.Requests()
	x.record(tk.idx, status, errs, reqs, attempts, start)
}

// attempt carries out one task. A panic in it (a bug, or a target that misbehaves) fails
// the task's changes and halts the apply, instead of ending the process with Go's exit
// status 2, which means "changes present".
func (x *executor) attempt(ctx context.Context, tk task) (status Status, errs []error) {
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("internal error: %v", r)
			x.opts.Logger.Error("panic in apply", "error", err, "stack", string(debug.Stack()))
			x.stop(err)
			status, errs = StatusFailed, make([]error, len(tk.idx))
			for i := range errs {
				errs[i] = err
			}
		}
	}()
	if len(tk.idx) == 1 && !x.p.Changes[tk.idx[0]].Action.IsMembership() {
		return x.one(ctx, &x.p.Changes[tk.idx[0]])
	}
	return x.members(ctx, tk.idx)
}

// record stores the outcome of one task's changes, writes their audit records and reports
// progress.
func (x *executor) record(idx []int, status Status, errs []error, reqs []string, attempts int, start time.Time) {
	dur := x.opts.Now().Sub(start)
	x.mu.Lock()
	for n, i := range idx {
		r := &x.results[i]
		r.Status, r.Attempts, r.Duration = status, attempts, dur
		if n < len(errs) {
			r.Err = errs[n]
		}
		if r.Err == nil && status != StatusOK {
			r.Err = errors.New("failed")
		}
		if r.Status == StatusOK && r.Err != nil {
			r.Status = StatusFailed
		}
		x.done++
	}
	done := x.done
	x.mu.Unlock()
	for n, i := range idx {
		c := &x.p.Changes[i]
		rec := audit.Record{Time: start.UTC(), Change: i, Action: string(c.Action), Kind: string(c.Kind), Key: c.Key,
			Workspace: c.Workspace, Requests: reqs, Status: string(x.results[i].Status), Attempts: attempts, DurationMS: dur.Milliseconds()}
		if n > 0 {
			rec.Requests = nil // the requests of a membership task are recorded once
		}
		if err := x.results[i].Err; err != nil {
			rec.Error = err.Error()
		}
		x.opts.Audit.Write(rec)
		if x.results[i].Err != nil {
			x.opts.Logger.Warn("change failed", "change", describe(c), "error", x.results[i].Err)
		}
	}
	if x.opts.Progress != nil {
		x.opts.Progress(done, len(x.p.Changes))
	}
}

// id returns the SCIM id of the object a change or member refers to: the one recorded in
// the plan, or the one a create of this apply returned.
func (x *executor) id(r model.Ref, planned string) (string, error) {
	if planned != "" {
		return planned, nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if id, ok := x.ids[r]; ok {
		return id, nil
	}
	if err, ok := x.failed[r]; ok {
		return "", fmt.Errorf("%s was not created: %w", r, err)
	}
	return "", fmt.Errorf("%s has no id: it is neither live nor created by this plan", r)
}

func (x *executor) one(ctx context.Context, c *Change) (Status, []error) {
	ref := c.Ref()
	if c.Action == Create {
		id, err := x.create(ctx, c)
		x.mu.Lock()
		if err != nil {
			x.failed[ref] = err
		} else {
			x.ids[ref] = id
		}
		x.mu.Unlock()
		if err != nil {
			return StatusFailed, []error{err}
		}
		return StatusOK, nil
	}
	id, err := x.id(ref, c.ID)
	if err != nil {
		return StatusSkipped, []error{err}
	}
	if err := x.change(ctx, c, id); err != nil {
		return StatusFailed, []error{err}
	}
	return StatusOK, nil
}

func (x *executor) create(ctx context.Context, c *Change) (string, error) {
	switch {
	case c.After == nil:
		return "", errors.New("create without an object")
	case c.After.User != nil:
		return x.t.CreateUser(ctx, c.After.User)
	case c.After.ServicePrincipal != nil:
		id, _, err := x.t.CreateServicePrincipal(ctx, c.After.ServicePrincipal)
		return id, err
	case c.After.Group != nil:
		if j, ok := x.addOf[c.Key]; ok {
			return x.createWithMembers(ctx, c, j)
		}
		return x.t.CreateGroup(ctx, c.After.Group)
	}
	return "", errors.New("create without an object")
}

// change carries out a change other than a create on the object with SCIM id id, from
// the change's payload (see Change).
func (x *executor) change(ctx context.Context, c *Change, id string) error {
	switch c.Action {
	case Delete:
		return x.t.Delete(ctx, c.Kind, id)
	case Assign, Unassign:
		return x.t.SetWorkspacePermission(ctx, c.Workspace, id, c.Permission.To)
	case SetEntitlements:
		return x.t.PatchWorkspaceEntitlements(ctx, x.workspace(c.Workspace), c.Kind, id, c.Entitlements.Grant, c.Entitlements.Revoke)
	case Update, Rename, Reactivate, Deactivate:
		return x.update(ctx, c, id)
	}
	return fmt.Errorf("unknown action %q", c.Action)
}

// update sends the attributes of c.Set that differ from the live object c.Before.
func (x *executor) update(ctx context.Context, c *Change, id string) error {
	switch c.Kind {
	case model.KindUser:
		to := *c.Before.User
		c.Set.applyUser(&to)
		return x.t.UpdateUser(ctx, id, c.Before.User, &to)
	case model.KindServicePrincipal:
		to := *c.Before.ServicePrincipal
		c.Set.applyServicePrincipal(&to)
		return x.t.UpdateServicePrincipal(ctx, id, c.Before.ServicePrincipal, &to)
	case model.KindGroup:
		to := *c.Before.Group
		c.Set.applyGroup(&to)
		return x.t.UpdateGroup(ctx, id, c.Before.Group, &to)
	}
	return fmt.Errorf("unknown kind %q", c.Kind)
}

func (x *executor) workspace(id string) model.Workspace {
	for _, w := range x.p.Workspaces {
		if w.ID == id {
			return w
		}
	}
	return model.Workspace{ID: id}
}

// createWithMembers creates a group of the plan with the first BatchSize members of its
// AddMembers change j, then adds the rest in PATCH batches and records change j, whose
// audit record names the create too. When the create fails, change j is left to the
// membership phase, which skips it.
func (x *executor) createWithMembers(ctx context.Context, c *Change, j int) (string, error) {
	start := x.opts.Now()
	ids, missing := x.memberIDs(&x.p.Changes[j])
	first := ids[:min(len(ids), x.opts.BatchSize)]
	gid, err := x.mc.CreateGroupWithMembers(ctx, c.After.Group, first)
	if err != nil {
		return "", err
	}
	createReqs, createAttempts := audit.FromContext(ctx).Requests()
	trace := &audit.Trace{}
	status, errs := StatusOK, []error{missing}
	if err := x.patchMembers(audit.WithTrace(ctx, trace), gid, ids[len(first):], nil); err != nil {
		status, errs[0] = StatusFailed, errors.Join(missing, err)
	}
	reqs, attempts := trace.Requests()
	x.record([]int{j}, status, errs, append(createReqs, reqs...), createAttempts+attempts, start)
	return gid, nil
}

// members runs the membership changes of one group: the additions and removals are cut in
// batches of BatchSize, and each batch is one PATCH carrying both.
func (x *executor) members(ctx context.Context, idx []int) (Status, []error) {
	first := &x.p.Changes[idx[0]]
	errs := make([]error, len(idx))
	gid, err := x.id(model.Ref{Kind: model.KindGroup, Key: first.Key}, first.ID)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return StatusSkipped, errs
	}
	var add, remove []string
	for n, i := range idx {
		c := &x.p.Changes[i]
		ids, missing := x.memberIDs(c)
		if c.Action == AddMembers {
			add = append(add, ids...)
		} else {
			remove = append(remove, ids...)
		}
		errs[n] = missing
	}
	if err := x.patchMembers(ctx, gid, add, remove); err != nil {
		for i := range errs {
			errs[i] = errors.Join(errs[i], err)
		}
		return StatusFailed, errs
	}
	return StatusOK, errs
}

// memberIDs returns the SCIM ids of a membership change's members, and an error naming
// those left out because they have none (their create failed or was skipped).
func (x *executor) memberIDs(c *Change) ([]string, error) {
	var ids, missing []string
	for _, m := range c.Members {
		id, err := x.id(model.Ref{Kind: m.Kind, Key: m.Key}, m.ID)
		if err != nil {
			missing = append(missing, err.Error())
			continue
		}
		ids = append(ids, id)
	}
	if len(missing) > 0 {
		return ids, fmt.Errorf("%d members left out: %s", len(missing), strings.Join(missing, "; "))
	}
	return ids, nil
}

// patchMembers adds and removes members in batches of BatchSize; each batch is one PATCH
// carrying both.
func (x *executor) patchMembers(ctx context.Context, gid string, add, remove []string) error {
	b := x.opts.BatchSize
	for len(add) > 0 || len(remove) > 0 {
		na, nr := min(b, len(add)), min(b, len(remove))
		if err := x.t.PatchMembers(ctx, gid, add[:na], remove[:nr]); err != nil {
			return err
		}
		add, remove = add[na:], remove[nr:]
	}
	return nil
}

// setDiff returns what is in after but not before (add) and in before but not after (remove).
func setDiff(before, after []string) (add, remove []string) {
	in := func(list []string, s string) bool {
		for _, e := range list {
			if e == s {
				return true
			}
		}
		return false
	}
	for _, s := range after {
		if !in(before, s) {
			add = append(add, s)
		}
	}
	for _, s := range before {
		if !in(after, s) {
			remove = append(remove, s)
		}
	}
	return add, remove
}

// describe formats a change for messages: "create user:ada@example.com".
func describe(c *Change) string {
	s := fmt.Sprintf("%s %s:%s", c.Action, c.Kind, c.Key)
	if c.Workspace != "" {
		s += " in workspace " + c.Workspace
	}
	return s
}

// Describe formats a change for messages.
func Describe(c *Change) string { return describe(c) }
