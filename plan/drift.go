package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
)

// DriftFormatVersion is the version of the JSON form of a DriftReport. It changes whenever a
// field's meaning changes.
const DriftFormatVersion = 1

// DriftStatus says how a live or declared object compares.
type DriftStatus string

// The statuses of a drift report. Missing, changed and unmanaged objects are drift; the
// others are listed for the record.
const (
	// InSync objects are declared and live, and equal.
	InSync DriftStatus = "in-sync"
	// Missing objects are declared but not live.
	Missing DriftStatus = "missing"
	// Changed objects are declared and live, but their attributes, members, workspace
	// assignments or per-workspace entitlements differ.
	Changed DriftStatus = "changed"
	// Unmanaged objects are live and in scope of the policy, but not declared. They are
	// drift whatever the removal policy says.
	Unmanaged DriftStatus = "unmanaged"
	// Deactivated objects are live users or service principals that are not declared and
	// already inactive, as the deactivate removal policy leaves them. They are not drift.
	Deactivated DriftStatus = "deactivated"
	// Excluded objects are live but out of the policy's scope: built-in groups, protected
	// identities, the identity of the credentials, and those matching policy.scope.ignore.
	// They are not drift.
	Excluded DriftStatus = "excluded"
)

// DriftStatuses lists every status in display order.
var DriftStatuses = []DriftStatus{Missing, Changed, Unmanaged, Deactivated, Excluded, InSync}

// IsDrift reports whether objects of the status are drift.
func (s DriftStatus) IsDrift() bool { return s == Missing || s == Changed || s == Unmanaged }

// Aspect names what part of an object a difference is about.
type Aspect string

// The aspects of a difference.
const (
	AspectAttribute    Aspect = "attribute"    // displayName, active, roles, ...
	AspectMembers      Aspect = "members"      // a group's direct members
	AspectAssignment   Aspect = "assignment"   // a workspace permission assignment
	AspectEntitlements Aspect = "entitlements" // entitlements in one workspace
)

// DriftReport compares the desired state with the live one, object by object, without
// planning anything. Its JSON form is documented by schemas/drift.schema.json.
type DriftReport struct {
	FormatVersion int       `json:"formatVersion"`
	ToolVersion   string    `json:"toolVersion"`
	CreatedAt     time.Time `json:"createdAt"`
	Target        TargetID  `json:"target"`
	// Live says where the live state was read from.
	Live LiveSource `json:"live"`
	// Ignore lists the policy's scope.ignore patterns the report was made with.
	Ignore []string `json:"ignore,omitempty"`
	// Protected lists the live identities the policy keeps out of reach.
	Protected []model.Ref  `json:"protected,omitempty"`
	Summary   DriftSummary `json:"summary"`
	// Objects are every object that is not in sync, ordered by status (as in
	// DriftStatuses), kind (groups, service principals, users) and key.
	Objects  []DriftObject `json:"objects"`
	Warnings []string      `json:"warnings,omitempty"`
}

// LiveSource says where the live state of a drift report comes from.
type LiveSource struct {
	// Kind is LiveAPI or LiveSnapshot.
	Kind string `json:"kind"`
	// File is the snapshot file, and TakenAt the time it was written.
	File    string     `json:"file,omitempty"`
	TakenAt *time.Time `json:"takenAt,omitempty"`
}

// The kinds of LiveSource: a read through the SCIM API, or a snapshot file.
const (
	LiveAPI      = "api"
	LiveSnapshot = "snapshot"
)

// DriftSummary counts the objects of a report by status and kind.
type DriftSummary struct {
	// Drift is true when any object is missing, changed or unmanaged.
	Drift       bool       `json:"drift"`
	InSync      KindCounts `json:"inSync"`
	Missing     KindCounts `json:"missing"`
	Changed     KindCounts `json:"changed"`
	Unmanaged   KindCounts `json:"unmanaged"`
	Deactivated KindCounts `json:"deactivated"`
	Excluded    KindCounts `json:"excluded"`
}

// KindCounts counts objects by kind.
type KindCounts struct {
	Users             int `json:"users"`
	ServicePrincipals int `json:"servicePrincipals"`
	Groups            int `json:"groups"`
	Total             int `json:"total"`
}

func (c *KindCounts) add(k model.Kind) {
	switch k {
	case model.KindUser:
		c.Users++
	case model.KindServicePrincipal:
		c.ServicePrincipals++
	case model.KindGroup:
		c.Groups++
	}
	c.Total++
}

// Of returns the counts of one status.
func (s DriftSummary) Of(status DriftStatus) KindCounts { return *s.counts(status) }

func (s *DriftSummary) counts(status DriftStatus) *KindCounts {
	switch status {
	case InSync:
		return &s.InSync
	case Missing:
		return &s.Missing
	case Changed:
		return &s.Changed
	case Unmanaged:
		return &s.Unmanaged
	case Deactivated:
		return &s.Deactivated
	}
	return &s.Excluded
}

// DriftObject is one object that is not in sync.
type DriftObject struct {
	Status DriftStatus `json:"status"`
	Kind   model.Kind  `json:"kind"`
	// Key is the object's normalised key: the declared one for declared objects (a renamed
	// group has its new name), the live one for the others.
	Key string `json:"key"`
	// ID is the SCIM id of the live object; empty for missing objects.
	ID string `json:"id,omitempty"`
	// DeclaredAt is where a declared object is declared, when known.
	DeclaredAt string `json:"declaredAt,omitempty"`
	// Reason says why an excluded object is out of scope.
	Reason      string       `json:"reason,omitempty"`
	Differences []Difference `json:"differences,omitempty"`
}

// Ref returns the reference of the object.
func (o *DriftObject) Ref() model.Ref { return model.Ref{Kind: o.Kind, Key: o.Key} }

// Difference is one way in which a live object differs from its declaration.
type Difference struct {
	Aspect Aspect `json:"aspect"`
	// Workspace is set on assignments and per-workspace entitlements.
	Workspace string `json:"workspace,omitempty"`
	// Name is the attribute: displayName, active, roles, ..., permission or entitlements.
	// Live and Declared are its values: strings, booleans or string lists; a permission
	// of "" means not assigned.
	Name     string `json:"name,omitempty"`
	Live     any    `json:"live,omitempty"`
	Declared any    `json:"declared,omitempty"`
	// Missing are members that are declared but not live, Extra members that are live but
	// not declared.
	Missing []Member `json:"missing,omitempty"`
	Extra   []Member `json:"extra,omitempty"`
}

// Drift compares a desired state with a live one, with the matching rules of Diff (adoption
// by key, renames through previously:, externalId for userName changes) and the scope of
// the policy (ignore patterns, protected identities, built-in groups, and opts.Identity).
// The removal policy and the guards play no part: a live object in scope that nothing
// declares is unmanaged whatever the policy would do with it. Both states must be
// normalised; live objects must carry their SCIM ids.
func Drift(desired, live *model.State, pol policy.Policy, opts Options) *DriftReport {
	return compare(desired, live, pol, opts).drift()
}

// OutOfScope returns the live objects the policy keeps out of reach, with the reason:
// built-in groups, protected identities, the identity of the credentials (when not nil)
// and those matching policy.scope.ignore.
func OutOfScope(live *model.State, pol policy.Policy, identity *model.Ref) map[model.Ref]Exclusion {
	return newDiffer(&model.State{}, live, pol, Options{Identity: identity}).unmanaged
}

// drift turns the changes the differ found into a report.
func (d *differ) drift() *DriftReport {
	// Changes about live objects that are declared under another key (a renamed group, a
	// service principal declared by displayName) are filed under the declared key.
	declaredAs := map[model.Ref]model.Ref{}
	for k, lu := range d.userMatch {
		declaredAs[model.Ref{Kind: model.KindUser, Key: lu.Key()}] = model.Ref{Kind: model.KindUser, Key: k}
	}
	for k, lp := range d.spMatch {
		declaredAs[model.Ref{Kind: model.KindServicePrincipal, Key: lp.Key()}] = model.Ref{Kind: model.KindServicePrincipal, Key: k}
	}
	for k, lg := range d.groupMatch {
		declaredAs[model.Ref{Kind: model.KindGroup, Key: lg.Key()}] = model.Ref{Kind: model.KindGroup, Key: k}
	}
	dix := model.NewIndex(d.desired)
	objects := map[model.Ref]*DriftObject{}
	object := func(r model.Ref) *DriftObject {
		if o := objects[r]; o != nil {
			return o
		}
		o := &DriftObject{Kind: r.Kind, Key: r.Key}
		objects[r] = o
		return o
	}
	for i := range d.changes {
		c := &d.changes[i]
		r := c.Ref()
		if dr, ok := declaredAs[r]; ok {
			r = dr
		}
		o := object(r)
		if o.ID == "" {
			o.ID = c.ID
		}
		if c.Action == Create {
			o.Status = Missing
			continue
		}
		o.Differences = append(o.Differences, differences(c)...)
	}
	// Every declared object the differ compared is in sync, missing or changed.
	var synced KindCounts
	for _, r := range declaredRefs(d.desired) {
		if d.skipped[r] {
			// Declared, but neither adopted nor created: a userName that cannot change,
			// or a name several live objects have. Declared objects that the scope
			// ignores are not drift.
			if d.liveID(r) == "" && !d.ignored(r.Kind, declaredNames(dix, r)...) {
				o := object(r)
				o.Status, o.Reason = Missing, "cannot be created or adopted as declared; see the warnings"
			}
			continue
		}
		o, ok := objects[r]
		switch {
		case !ok:
			synced.add(r.Kind)
			continue
		case o.Status == "":
			o.Status = Changed
		}
		if at := origin(dix, r); !at.IsZero() {
			o.DeclaredAt = at.String()
		}
		if o.ID == "" && o.Status != Missing {
			o.ID = d.liveID(r)
		}
	}
	// Live objects out of scope, and those that nothing declares.
	for _, l := range liveObjects(d.live) {
		r := l.ref
		o := objects[r]
		if why, out := d.unmanaged[r]; out && o == nil {
			objects[r] = &DriftObject{Status: Excluded, Kind: r.Kind, Key: r.Key, ID: l.id, Reason: string(why)}
			continue
		}
		if _, declared := declaredAs[r]; declared {
			continue
		}
		if d.claimed[r] && o == nil {
			continue
		}
		o = object(r)
		o.ID = l.id
		o.Status = Unmanaged
		if len(o.Differences) == 0 && l.inactive {
			o.Status = Deactivated
		}
	}
	rep := &DriftReport{
		FormatVersion: DriftFormatVersion,
		ToolVersion:   d.opts.ToolVersion,
		CreatedAt:     d.opts.Now.UTC(),
		Target:        d.opts.Target,
		Ignore:        d.pol.Scope.Ignore,
		Protected:     d.protected,
		Objects:       []DriftObject{},
		Warnings:      append(blockedNotes(d.blocked), d.warnings...),
	}
	sort.Slice(rep.Protected, func(i, j int) bool { return rep.Protected[i].String() < rep.Protected[j].String() })
	rep.Summary.InSync = synced
	for _, o := range objects {
		if o.Status == "" {
			// A change about a live object that something declared claims without
			// adopting it (a userName waiting to change): the warnings explain it.
			continue
		}
		rep.Summary.counts(o.Status).add(o.Kind)
		rep.Summary.Drift = rep.Summary.Drift || o.Status.IsDrift()
		rep.Objects = append(rep.Objects, *o)
	}
	sort.Slice(rep.Objects, func(i, j int) bool {
		a, b := &rep.Objects[i], &rep.Objects[j]
		if a.Status != b.Status {
			return slices.Index(DriftStatuses, a.Status) < slices.Index(DriftStatuses, b.Status)
		}
		if a.Kind != b.Kind {
			return kindOrder(a.Kind) < kindOrder(b.Kind)
		}
		return a.Key < b.Key
	})
	return rep
}

// liveID returns the SCIM id of the live object a declared object adopts.
func (d *differ) liveID(r model.Ref) string {
	_, m, _ := d.resolve(r)
	return m.ID
}

// differences turns a change into the differences it corrects. The values shown are the
// change's display attributes; which aspect and workspace they concern comes from its
// action and payload.
func differences(c *Change) []Difference {
	switch c.Action {
	case AddMembers:
		return []Difference{{Aspect: AspectMembers, Missing: c.Members}}
	case RemoveMembers:
		return []Difference{{Aspect: AspectMembers, Extra: c.Members}}
	case Assign, Unassign:
		return []Difference{{Aspect: AspectAssignment, Workspace: c.Workspace, Name: "permission", Live: c.Permission.From, Declared: c.Permission.To}}
	case Delete:
		return nil
	}
	aspect := AspectAttribute
	if c.Action == SetEntitlements {
		aspect = AspectEntitlements
	}
	out := make([]Difference, len(c.Attributes))
	for i, a := range c.Attributes {
		out[i] = Difference{Aspect: aspect, Workspace: c.Workspace, Name: a.Name, Live: a.Before, Declared: a.After}
	}
	return out
}

// declaredRefs lists the references of every declared user, service principal and group.
func declaredRefs(s *model.State) []model.Ref {
	refs := make([]model.Ref, 0, len(s.Users)+len(s.ServicePrincipals)+len(s.Groups))
	for i := range s.Users {
		refs = append(refs, model.Ref{Kind: model.KindUser, Key: s.Users[i].Key()})
	}
	for i := range s.ServicePrincipals {
		refs = append(refs, model.Ref{Kind: model.KindServicePrincipal, Key: s.ServicePrincipals[i].Key()})
	}
	for i := range s.Groups {
		refs = append(refs, model.Ref{Kind: model.KindGroup, Key: s.Groups[i].Key()})
	}
	return refs
}

// declaredNames returns the names the scope's ignore patterns match a declared object by.
func declaredNames(ix *model.Index, r model.Ref) []string {
	switch r.Kind {
	case model.KindServicePrincipal:
		if p := ix.ServicePrincipals[r.Key]; p != nil {
			return []string{p.ApplicationID, p.DisplayName}
		}
	case model.KindGroup:
		if g := ix.Groups[r.Key]; g != nil {
			return []string{g.DisplayName}
		}
	}
	return []string{r.Key}
}

func origin(ix *model.Index, r model.Ref) model.Origin {
	switch r.Kind {
	case model.KindUser:
		if u := ix.Users[r.Key]; u != nil {
			return u.Origin
		}
	case model.KindServicePrincipal:
		if p := ix.ServicePrincipals[r.Key]; p != nil {
			return p.Origin
		}
	case model.KindGroup:
		if g := ix.Groups[r.Key]; g != nil {
			return g.Origin
		}
	}
	return model.Origin{}
}

// liveObject is what drift needs to know of a live object.
type liveObject struct {
	ref      model.Ref
	id       string
	inactive bool
}

func liveObjects(s *model.State) []liveObject {
	out := make([]liveObject, 0, len(s.Users)+len(s.ServicePrincipals)+len(s.Groups))
	for i := range s.Users {
		u := &s.Users[i]
		out = append(out, liveObject{model.Ref{Kind: model.KindUser, Key: u.Key()}, u.ID, !u.Active})
	}
	for i := range s.ServicePrincipals {
		p := &s.ServicePrincipals[i]
		out = append(out, liveObject{model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()}, p.ID, !p.Active})
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		out = append(out, liveObject{model.Ref{Kind: model.KindGroup, Key: g.Key()}, g.ID, false})
	}
	return out
}

// EncodeDrift writes the JSON form of a drift report, indented.
func EncodeDrift(w io.Writer, r *DriftReport) error {
	out, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode drift report: %w", err)
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

// DecodeDrift reads the JSON form of a drift report. It refuses other format versions and
// unknown fields. Attribute values come back as JSON values: strings, booleans and []any.
func DecodeDrift(rd io.Reader) (*DriftReport, error) {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	var r DriftReport
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("read drift report: %w", err)
	}
	if r.FormatVersion != DriftFormatVersion {
		return nil, fmt.Errorf("read drift report: format version %d, this scimsync reads version %d", r.FormatVersion, DriftFormatVersion)
	}
	return &r, nil
}

// blockedNotes words what a plan would list as blocked for a drift report's warnings, so
// that drift and plan say the same.
func blockedNotes(bs []Blocked) []string {
	var out []string
	for _, b := range bs {
		out = append(out, "blocked: "+string(b.Kind)+" "+b.Key+": "+b.Reason)
	}
	return out
}
