// Package directory turns directory entries — read from an LDIF export or found by a live
// LDAP search — into users and groups of scimsync's model. It holds what the LDIF and LDAP
// sources share: the entry representation, DN normalisation, the classification of entries
// into users and groups, the attribute mapping, and the resolution of group members.
//
// Users are entries of the object classes person, organizationalPerson, inetOrgPerson,
// posixAccount or (Active Directory) user, but never computer. Groups are entries of the
// object classes groupOfNames (member), groupOfUniqueNames (uniqueMember), posixGroup
// (memberUid, a user's uid) or (Active Directory) group (member). A member that is a group
// in scope becomes a nested Databricks group. Members that name no entry of the source, or
// an entry out of scope, are dropped with a warning: directory exports are routinely
// partial, and a dropped member is never a member invented.
//
// Package directory imports model, diag, source/mapping, source/read and go-ldap (for DN
// parsing).
package directory

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/mapping"
	"github.com/scimsync/scimsync/source/read"
)

// Rules of the diagnostics this package reports.
const (
	RuleInvalidDN       = "invalid-dn"          // a DN or member value does not parse
	RuleDuplicateDN     = "duplicate-dn"        // two entries have the same DN
	RuleMissingUserName = "missing-username"    // a user entry lacks the userName attribute
	RuleMultiValued     = "multi-valued"        // the userName comes from an attribute with several values
	RuleMissingName     = "missing-group-name"  // a group entry lacks its name attribute
	RuleInvalidValue    = "invalid-value"       // an attribute value the mapping cannot use
	RuleMemberNotFound  = "member-not-found"    // a member names no entry of the source
	RuleMemberOutside   = "member-out-of-scope" // a member names an entry out of scope
	RuleInvalidMapping  = "invalid-mapping"     // the mapping itself is wrong
)

// Entry is one directory entry. Attribute names are lower-cased; values are the raw
// strings of the source, which may be binary (such as objectGUID).
type Entry struct {
	DN     string
	Attrs  map[string][]string
	Origin model.Origin
}

// Values returns the values of an attribute, found case-insensitively.
func (e *Entry) Values(attr string) []string { return e.Attrs[strings.ToLower(attr)] }

// First returns the first non-empty value of an attribute.
func (e *Entry) First(attr string) string {
	for _, v := range e.Values(attr) {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// Add appends a value to an attribute of the entry.
func (e *Entry) Add(attr, value string) {
	if e.Attrs == nil {
		e.Attrs = map[string][]string{}
	}
	k := strings.ToLower(attr)
	e.Attrs[k] = append(e.Attrs[k], value)
}

// Mapping is the mapping setting of a directory source (kinds ldif and ldap): how
// entries become users and groups. Empty fields take the defaults documented in
// docs/sources.md.
type Mapping struct {
	UserName    mapping.Names      `yaml:"userName"`
	DisplayName string             `yaml:"displayName"`
	GivenName   string             `yaml:"givenName"`
	FamilyName  string             `yaml:"familyName"`
	ExternalID  string             `yaml:"externalId"`
	Active      mapping.ActiveRule `yaml:"active"`
	Users       UserScope          `yaml:"users"`
	Groups      GroupScope         `yaml:"groups"`
	GroupName   GroupName          `yaml:"groupName"`
}

// UserScope says which directory entries are users. Entries outside the scope are not
// users, and group members that point at them are dropped with a warning.
type UserScope struct {
	BaseDN string `yaml:"baseDN"`
	// ObjectClasses replaces the default user object classes (person, inetOrgPerson,
	// organizationalPerson, posixAccount, user). Active Directory computer objects are
	// never users.
	ObjectClasses []string `yaml:"objectClasses"`
}

// GroupScope says which directory groups are in scope.
type GroupScope struct {
	BaseDN        string   `yaml:"baseDN"`
	NamePattern   string   `yaml:"namePattern"` // regular expression on the group name
	ObjectClasses []string `yaml:"objectClasses"`
}

// GroupName says which attribute names a group (default cn) and how the name is
// transformed.
type GroupName struct {
	Attribute        string `yaml:"attribute"`
	mapping.NameRule `yaml:",inline"`
}

// Default object classes, lower-cased.
var (
	DefaultUserClasses  = []string{"person", "organizationalperson", "inetorgperson", "posixaccount", "user"}
	DefaultGroupClasses = []string{"groupofnames", "groupofuniquenames", "posixgroup", "group"}
)

// Mapper maps entries to identities under one source's mapping.
type Mapper struct {
	m            Mapping
	userClasses  []string
	groupClasses []string
	userBase     *ldap.DN
	groupBase    *ldap.DN
	active       *mapping.Active
	groups       *mapping.Groups
	// userName, displayName, ... list the attributes each value comes from, in order of
	// preference.
	userName                                       *mapping.UserName
	displayName, givenName, familyName, externalID []string
	groupNameAttr                                  string
}

// NewMapper compiles a mapping. Problems with the mapping itself are reported at the
// source's origin in the config.
func NewMapper(m Mapping, at model.Origin) (*Mapper, diag.List) {
	var diags diag.List
	mp := &Mapper{
		m:             m,
		userClasses:   lowerAll(m.Users.ObjectClasses),
		groupClasses:  lowerAll(m.Groups.ObjectClasses),
		displayName:   pick(m.DisplayName, "displayName", "cn"),
		givenName:     pick(m.GivenName, "givenName"),
		familyName:    pick(m.FamilyName, "sn"),
		externalID:    pick(m.ExternalID, "entryUUID", "objectGUID"),
		groupNameAttr: m.GroupName.Attribute,
	}
	if len(mp.userClasses) == 0 {
		mp.userClasses = DefaultUserClasses
	}
	if len(mp.groupClasses) == 0 {
		mp.groupClasses = DefaultGroupClasses
	}
	if mp.groupNameAttr == "" {
		mp.groupNameAttr = "cn"
	}
	var err error
	if mp.userName, err = mapping.NewUserName(pickList(m.UserName, "mail", "userPrincipalName")); err != nil {
		diags.Errorf(at, RuleInvalidMapping, "mapping.%v", err)
		mp.userName, _ = mapping.NewUserName([]string{"mail"})
	}
	if m.Users.BaseDN != "" {
		if mp.userBase, err = ldap.ParseDN(m.Users.BaseDN); err != nil {
			diags.Errorf(at, RuleInvalidMapping, "mapping.users.baseDN %q: %v", m.Users.BaseDN, err)
		}
	}
	if m.Groups.BaseDN != "" {
		if mp.groupBase, err = ldap.ParseDN(m.Groups.BaseDN); err != nil {
			diags.Errorf(at, RuleInvalidMapping, "mapping.groups.baseDN %q: %v", m.Groups.BaseDN, err)
		}
	}
	mp.active = mapping.NewActive(m.Active)
	if m.Active.Attribute == "" && (m.Active.DisabledBit != 0 || len(m.Active.ActiveValues) > 0 || len(m.Active.InactiveValues) > 0) {
		diags.Errorf(at, RuleInvalidMapping, "mapping.active needs an attribute")
	}
	if mp.groups, err = mapping.NewGroups(m.Groups.NamePattern, m.GroupName.NameRule); err != nil {
		diags.Errorf(at, RuleInvalidMapping, "mapping.%v", err)
	}
	return mp, diags
}

func pick(override string, defaults ...string) []string {
	if override != "" {
		return []string{override}
	}
	return defaults
}

func pickList(override []string, defaults ...string) []string {
	if len(override) > 0 {
		return override
	}
	return defaults
}

func lowerAll(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Attributes returns the attributes a search must return for the mapping to work,
// including the operational entryUUID, which servers return only when asked for.
func (mp *Mapper) Attributes() []string {
	attrs := []string{"objectClass", "uid", "member", "uniqueMember", "memberUid", "userAccountControl", mp.groupNameAttr}
	for _, list := range [][]string{mp.userName.Attributes(), mp.displayName, mp.givenName, mp.familyName, mp.externalID} {
		attrs = append(attrs, list...)
	}
	if a := mp.active.Attribute(); a != "" {
		attrs = append(attrs, a)
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range attrs {
		if k := strings.ToLower(a); !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	return out
}

// Filters returns LDAP filters that select the entries the mapping's object classes make
// users and groups. The filters only ever OR object classes: a class the server's schema
// does not define (such as Active Directory's user on OpenLDAP) makes its term undefined,
// which an OR tolerates and an AND or NOT would spread to the whole filter. Computer
// objects, which Active Directory's user filter also finds, are left out by Build.
func (mp *Mapper) Filters() (users, groups string) {
	return classFilter(mp.userClasses), classFilter(mp.groupClasses)
}

func classFilter(classes []string) string {
	var b strings.Builder
	b.WriteString("(|")
	for _, c := range classes {
		b.WriteString("(objectClass=" + ldap.EscapeFilter(c) + ")")
	}
	b.WriteString(")")
	return b.String()
}

// kind is what an entry is, once classified.
type kind int

const (
	kindOther kind = iota
	kindUser
	kindGroup
)

// node is a classified entry.
type node struct {
	entry   *Entry
	dn      *ldap.DN
	kind    kind
	inScope bool
	key     string // user key or Databricks group name; empty when the entry yields none
	group   *model.Group
}

// Build maps entries to a state. Entries may come from several files; members are
// resolved across all of them. The state is normalised. Skipped counts the user and
// group entries left out, by reason.
func (mp *Mapper) Build(entries []Entry) (*model.State, read.Skipped, diag.List) {
	var diags diag.List
	var skipped read.Skipped
	nodes := make([]*node, 0, len(entries))
	byDN := make(map[string]*node, len(entries))
	for i := range entries {
		e := &entries[i]
		dn, err := ldap.ParseDN(e.DN)
		if err != nil {
			diags.Errorf(e.Origin, RuleInvalidDN, "invalid DN %s: %v", diag.Quote(e.DN), err)
			continue
		}
		if len(dn.RDNs) == 0 {
			continue // the root DSE describes the server, not an identity
		}
		key := NormalizeDN(dn)
		if first, dup := byDN[key]; dup {
			d := diag.Diagnostic{Severity: diag.SevError, Origin: e.Origin, Rule: RuleDuplicateDN,
				Message: fmt.Sprintf("entry %s appears twice", diag.Quote(e.DN)), Related: &first.entry.Origin}
			diags = append(diags, d)
			continue
		}
		n := &node{entry: e, dn: dn}
		mp.classify(n)
		byDN[key] = n
		nodes = append(nodes, n)
	}

	state := &model.State{}
	uids := map[string]string{} // lower-cased uid → user key
	byUID := map[string]*node{} // lower-cased uid → the first user entry with it
	for _, n := range nodes {
		if n.kind == kindUser {
			for _, uid := range n.entry.Values("uid") {
				if uid = strings.ToLower(strings.TrimSpace(uid)); uid != "" && byUID[uid] == nil {
					byUID[uid] = n
				}
			}
		}
		if n.kind == kindUser && !n.inScope {
			skipped.Add(read.UsersOutOfScope, 1)
		}
		if n.kind == kindGroup && !n.inScope {
			skipped.Add(read.GroupsOutOfScope, 1)
		}
		if n.kind == kindUser && n.inScope {
			u, ok := mp.user(n.entry, &diags)
			if !ok {
				if u.UserName == "" {
					skipped.Add(read.NoUserName, 1)
				} else {
					skipped.Add(read.Invalid, 1)
				}
				continue
			}
			n.key = u.Key()
			state.Users = append(state.Users, u)
			for _, uid := range n.entry.Values("uid") {
				if uid = strings.ToLower(strings.TrimSpace(uid)); uid != "" {
					if _, taken := uids[uid]; !taken {
						uids[uid] = n.key
					}
				}
			}
		}
	}
	for _, n := range nodes {
		if n.kind == kindGroup && n.inScope {
			name := mp.groups.Name(n.entry.First(mp.groupNameAttr))
			if name == "" {
				diags.Warnf(n.entry.Origin, RuleMissingName, "group has no %s; it is left out", mp.groupNameAttr)
				skipped.Add(read.GroupsNoName, 1)
				n.inScope = false
				continue
			}
			n.key = model.GroupKey(name)
			n.group = &model.Group{DisplayName: name, Origin: n.entry.Origin}
		}
	}
	parsed := map[string]string{} // member value → normalised DN, shared by all groups
	for _, n := range nodes {
		if n.group == nil {
			continue
		}
		mp.members(n, byDN, uids, byUID, parsed, &diags)
		state.Groups = append(state.Groups, *n.group)
	}
	state.Normalize()
	return state, skipped, diags
}

// classify decides whether an entry is a user or a group, and whether it is in scope.
func (mp *Mapper) classify(n *node) {
	classes := lowerAll(n.entry.Values("objectClass"))
	has := func(list []string) bool {
		return slices.ContainsFunc(classes, func(c string) bool { return slices.Contains(list, c) })
	}
	switch {
	case has(mp.groupClasses):
		n.kind = kindGroup
		n.inScope = under(mp.groupBase, n.dn) && mp.groups.Match(strings.TrimSpace(n.entry.First(mp.groupNameAttr)))
	case slices.Contains(classes, "computer"):
		n.kind = kindOther
	case has(mp.userClasses):
		n.kind = kindUser
		n.inScope = under(mp.userBase, n.dn)
	}
}

// under reports whether dn is base or below it; a nil base contains everything.
func under(base, dn *ldap.DN) bool {
	return base == nil || base.EqualFold(dn) || base.AncestorOfFold(dn)
}

// user maps a user entry. An entry without a userName is left out with a warning.
func (mp *Mapper) user(e *Entry, diags *diag.List) (model.User, bool) {
	text := func(attrs []string) (string, bool) {
		for _, a := range attrs {
			v := strings.TrimSpace(e.First(a))
			if v == "" {
				continue
			}
			if !utf8.ValidString(v) {
				diags.Errorf(e.Origin, RuleInvalidValue, "%s is binary, not text", a)
				return "", false
			}
			return v, true
		}
		return "", true
	}
	res := mp.userName.Eval(e.Values)
	switch {
	case res.UserName == "" && len(res.Invalid) == 0:
		diags.Warnf(e.Origin, RuleMissingUserName, "user has no %s; it is left out", mp.userName.Describe())
		return model.User{}, false
	case res.UserName == "":
		diags.Errorf(e.Origin, RuleInvalidValue, "no e-mail address for the userName: %s; map userName to an attribute or template that yields one (see docs/sources.md)",
			strings.Join(res.Invalid, ", "))
		return model.User{UserName: "invalid"}, false
	}
	for _, a := range res.Multi {
		diags.Warnf(e.Origin, RuleMultiValued, "%s has %d values (%s); the userName uses the first",
			a, len(e.Values(a)), strings.Join(e.Values(a), ", "))
	}
	u := model.User{UserName: res.UserName, Origin: e.Origin}
	var okAll = true
	for _, f := range []struct {
		dst   *string
		attrs []string
	}{{&u.DisplayName, mp.displayName}, {&u.GivenName, mp.givenName}, {&u.FamilyName, mp.familyName}} {
		v, ok := text(f.attrs)
		*f.dst, okAll = v, okAll && ok
	}
	for _, a := range mp.externalID {
		v := e.First(a)
		if v == "" {
			continue
		}
		id, err := externalID(a, v)
		if err != nil {
			diags.Errorf(e.Origin, RuleInvalidValue, "%v", err)
			okAll = false
		}
		u.ExternalID = id
		break
	}
	active, err := mp.isActive(e)
	if err != nil {
		diags.Errorf(e.Origin, RuleInvalidValue, "%v", err)
		okAll = false
	}
	u.Active = active
	return u, okAll
}

// isActive applies the active rule. Without one, an entry with Active Directory's
// userAccountControl is inactive when its ACCOUNTDISABLE bit (2) is set, and any other
// entry is active.
func (mp *Mapper) isActive(e *Entry) (bool, error) {
	if mp.m.Active.Always {
		return true, nil
	}
	if mp.active.Attribute() != "" {
		return mp.active.Eval(e.First(mp.active.Attribute()))
	}
	if v := e.First("userAccountControl"); v != "" {
		return adActive.Eval(v)
	}
	return true, nil
}

// adActive is the rule for Active Directory's userAccountControl.
var adActive = mapping.NewActive(mapping.ActiveRule{Attribute: "userAccountControl", DisabledBit: 2})

// externalID turns the value of the externalId attribute into text. Sixteen binary bytes,
// or any value of objectGUID-like attributes that is sixteen bytes long, are a Windows
// GUID and formatted as one (Active Directory's objectGUID); other values must be text.
func externalID(attr, v string) (string, error) {
	binaryGUID := strings.EqualFold(attr, "objectGUID") || strings.EqualFold(attr, "mS-DS-ConsistencyGuid")
	if len(v) == 16 && (binaryGUID || !printable(v)) {
		b := []byte(v)
		return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
			binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
			binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16]), nil
	}
	if !printable(v) {
		return "", fmt.Errorf("%s is binary but not a 16-byte GUID; map externalId to a text attribute", attr)
	}
	return strings.TrimSpace(v), nil
}

// printable reports whether v is UTF-8 text without control characters.
func printable(v string) bool {
	if !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// bitString matches the optional UID of a uniqueMember value (RFC 4517 NameAndOptionalUID):
// a DN followed by #'0101'B.
var bitString = regexp.MustCompile(`#'[01]*'B$`)

// members resolves a group's member, uniqueMember and memberUid values.
func (mp *Mapper) members(n *node, byDN map[string]*node, uids map[string]string, byUID map[string]*node, parsed map[string]string, diags *diag.List) {
	g, e := n.group, n.entry
	var values []string
	values = append(values, e.Values("member")...)
	for _, v := range e.Values("uniqueMember") {
		values = append(values, bitString.ReplaceAllString(strings.TrimSpace(v), ""))
	}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue // empty member values are how some servers keep a group non-empty
		}
		key, seen := parsed[v]
		if !seen {
			dn, err := ldap.ParseDN(v)
			if err != nil {
				diags.Errorf(e.Origin, RuleInvalidDN, "invalid member DN %s: %v", diag.Quote(v), err)
				parsed[v] = ""
				continue
			}
			key = NormalizeDN(dn)
			parsed[v] = key
		}
		if key == "" {
			continue
		}
		m, ok := byDN[key]
		switch {
		case !ok:
			diags.Warnf(e.Origin, RuleMemberNotFound, "member %s is not an entry of the source; it is left out", diag.Quote(v))
		case m.kind == kindUser && m.inScope:
			if m.key != "" { // a user left out with a warning of its own stays out
				g.Members.Users = append(g.Members.Users, m.key)
			}
		case m.kind == kindGroup && m.inScope:
			g.Members.Groups = append(g.Members.Groups, m.key)
		default:
			diags.Warnf(e.Origin, RuleMemberOutside, "member %s is not a user or group in scope; it is left out", diag.Quote(v))
		}
	}
	for _, uid := range e.Values("memberUid") {
		uid = strings.TrimSpace(uid)
		if uid == "" {
			continue
		}
		if key, ok := uids[strings.ToLower(uid)]; ok {
			g.Members.Users = append(g.Members.Users, key)
			continue
		}
		switch u := byUID[strings.ToLower(uid)]; {
		case u == nil:
			diags.Warnf(e.Origin, RuleMemberNotFound, "memberUid %s is the uid of no user entry of the source; it is left out", diag.Quote(uid))
		case !u.inScope:
			diags.Warnf(e.Origin, RuleMemberOutside, "memberUid %s is the uid of %s, which is outside mapping.users; it is left out", diag.Quote(uid), diag.Quote(u.entry.DN))
		default:
			diags.Warnf(e.Origin, RuleMemberOutside, "memberUid %s is the uid of %s, which was left out for the reason given at its entry; so is this membership", diag.Quote(uid), diag.Quote(u.entry.DN))
		}
	}
}

// NormalizeDN returns the form in which DNs are compared: attribute types and values
// case-folded, the attributes of a multi-valued RDN sorted, and special characters
// escaped as RFC 4514 says. Two DNs have the same normal form exactly when
// (*ldap.DN).EqualFold reports them equal.
func NormalizeDN(dn *ldap.DN) string {
	var b strings.Builder
	for i, rdn := range dn.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		parts := make([]string, len(rdn.Attributes))
		for j, a := range rdn.Attributes {
			parts[j] = (&ldap.AttributeTypeAndValue{Type: fold(a.Type), Value: fold(a.Value)}).String()
		}
		slices.Sort(parts)
		b.WriteString(strings.Join(parts, "+"))
	}
	return b.String()
}

// fold maps every rune to the smallest rune of its case-folding orbit, so that
// fold(a) == fold(b) exactly when strings.EqualFold(a, b).
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		for {
			next := unicode.SimpleFold(r)
			if next <= r {
				return next
			}
			r = next
		}
	}, s)
}
