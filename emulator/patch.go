package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim"
)

// patchOp is one parsed PATCH operation.
type patchOp struct {
	op       string // add, remove or replace
	path     string
	value    json.RawMessage
	hasValue bool
}

// errRemoveWithValue is the account backend's answer to a remove that carries a value: a
// Jackson error from UnboundID SCIM2, without scimType (§4.2 item 3).
func errRemoveWithValue() *apiError {
	return &apiError{status: http.StatusBadRequest, detail: `Unrecognized field "value" (class com.unboundid.scim2.common.messages.PatchOperation$RemoveOperation), not marked as ignorable (2 known properties: "op", "path"])`}
}

// patchRules are the checks parsePatch makes beyond the PatchOp shape.
type patchRules struct {
	// strictRemove refuses a remove that carries a value (§4.2 item 3), except the
	// entitlements remove with a value list that Terraform sends to workspaces (§4.2
	// item 5).
	strictRemove bool
	// strict (strict mode) requires schemas naming the PatchOp URN (§4.2; a misspelt
	// "schema" failed, databricks-sdk-java#163).
	strict bool
}

// parsePatch reads a PatchOp body (§4.2). Both "Operations" and "operations" are
// accepted, op is compared case-insensitively, and unknown fields are refused as the
// strict UnboundID parser does (databricks-sdk-java#163).
func parsePatch(b []byte, rules patchRules) ([]patchOp, *apiError) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, errUnparsable()
	}
	var rawOps json.RawMessage
	for k, v := range top {
		switch k {
		case "schemas":
			var schemas []string
			if err := json.Unmarshal(v, &schemas); err != nil {
				return nil, errUnparsable()
			}
			if rules.strict && !slices.Contains(schemas, scim.SchemaPatchOp) {
				return nil, errBadRequest("invalidSyntax", "The request body must name the schema %s.", scim.SchemaPatchOp)
			}
		case "Operations", "operations":
			rawOps = v
		default:
			return nil, errUnparsable()
		}
	}
	if _, ok := top["schemas"]; rules.strict && !ok {
		return nil, errBadRequest("invalidSyntax", "The request body has no schemas; it must name %s.", scim.SchemaPatchOp)
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(rawOps, &list); err != nil || len(list) == 0 {
		return nil, errUnparsable()
	}
	ops := make([]patchOp, 0, len(list))
	for _, m := range list {
		var op patchOp
		for k, v := range m {
			switch k {
			case "op":
				if err := json.Unmarshal(v, &op.op); err != nil {
					return nil, errUnparsable()
				}
				op.op = strings.ToLower(op.op)
			case "path":
				if err := json.Unmarshal(v, &op.path); err != nil {
					return nil, errUnparsable()
				}
				op.path = strings.TrimSpace(op.path)
			case "value":
				op.value, op.hasValue = v, true
			default:
				return nil, errUnparsable()
			}
		}
		switch op.op {
		case "add", "replace":
			if !op.hasValue || isNull(op.value) {
				return nil, errUnparsable()
			}
		case "remove":
			if rules.strictRemove && op.hasValue && !strings.EqualFold(op.path, "entitlements") {
				return nil, errRemoveWithValue()
			}
			if op.path == "" {
				return nil, errBadRequest("noTarget", "A remove operation needs a path.")
			}
		default:
			return nil, errBadRequest("invalidSyntax", "Unsupported patch operation %q.", op.op)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func isBool(v json.RawMessage) bool {
	t := bytes.TrimSpace(v)
	return bytes.Equal(t, []byte("true")) || bytes.Equal(t, []byte("false"))
}

// errNoAttribute is Databricks' text for a path that names nothing in the resource (§4.2
// item 5).
func errNoAttribute(attr string) *apiError {
	return errBadRequest("invalidPath", "No such attribute with the name : %s in the current resource", attr)
}

// applyPatch applies the operations, in order, to c, a copy of the stored object.
func (s *Server) applyPatch(c *object, ops []patchOp, v view) *apiError {
	for _, op := range ops {
		if op.path == "" {
			// Pathless form: the value is an object whose keys are paths (§4.2 items 2, 4).
			var attrs map[string]json.RawMessage
			if err := json.Unmarshal(op.value, &attrs); err != nil {
				return errUnparsable()
			}
			keys := make([]string, 0, len(attrs))
			for k := range attrs {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				sub := patchOp{op: op.op, path: k, value: attrs[k], hasValue: true}
				if err := s.applyOp(c, sub, v); err != nil {
					return err
				}
			}
			continue
		}
		if err := s.applyOp(c, op, v); err != nil {
			return err
		}
	}
	return nil
}

// splitPath splits a path such as members[value eq "1"] into the attribute (lower-cased)
// and the value filter (nil when there is none).
func splitPath(path string) (string, *filter, *apiError) {
	i := strings.IndexByte(path, '[')
	if i < 0 {
		return strings.ToLower(path), nil, nil
	}
	attr := strings.ToLower(strings.TrimSpace(path[:i]))
	j := strings.LastIndexByte(path, ']')
	if j < i {
		return "", nil, errBadRequest("invalidPath", "Invalid path %s.", path)
	}
	if rest := strings.TrimSpace(path[j+1:]); rest != "" {
		// A sub-attribute after the filter, as in emails[type eq "work"].value.
		attr += "[]" + strings.ToLower(rest)
	}
	f, err := parseFilter(path[i+1 : j])
	if err != nil {
		return "", nil, errBadRequest("invalidPath", "Invalid filter in path %s.", path)
	}
	return attr, f, nil
}

// matchValue evaluates a path filter on one element of a multi-valued attribute, of which
// only "value" can be compared.
func matchValue(f *filter, value string) (bool, *apiError) {
	switch f.op {
	case "and", "or":
		l, err := matchValue(f.left, value)
		if err != nil {
			return false, err
		}
		r, err := matchValue(f.right, value)
		if err != nil {
			return false, err
		}
		if f.op == "and" {
			return l && r, nil
		}
		return l || r, nil
	}
	if f.attr != "value" {
		return false, errBadRequest("invalidFilter", "Unsupported filter attribute %s in path.", f.attr)
	}
	switch f.op {
	case "eq":
		return value == f.value, nil
	case "ne":
		return value != f.value, nil
	case "co":
		return strings.Contains(value, f.value), nil
	}
	return strings.HasPrefix(value, f.value), nil
}

// parseComplex reads the value of a multi-valued attribute: a list of objects with a string
// "value", or one such object. A bare string is refused with Databricks' text (§4.2).
func parseComplex(raw json.RawMessage) ([]string, *apiError) {
	raw = bytes.TrimSpace(raw)
	var list []scim.ComplexValue
	if len(raw) > 0 && raw[0] == '{' {
		var one scim.ComplexValue
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, errUnparsable()
		}
		list = []scim.ComplexValue{one}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errUnparsable()
	}
	out := make([]string, 0, len(list))
	for _, c := range list {
		out = append(out, c.Value)
	}
	return out, nil
}

func parseString(raw json.RawMessage) (string, *apiError) {
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return "", errUnparsable()
	}
	return str, nil
}

// applyOp applies one operation with a path.
func (s *Server) applyOp(c *object, op patchOp, v view) *apiError {
	attr, f, err := splitPath(op.path)
	if err != nil {
		return err
	}
	if f != nil && op.op != "remove" && !strings.HasPrefix(attr, "emails") {
		return errBadRequest("invalidPath", "A value filter in the path is only supported for remove: %s.", op.path)
	}
	switch {
	case attr == "members":
		if c.kind != kindGroup {
			return errNoAttribute(op.path)
		}
		if err := s.checkRemoveTarget(op, f, memberStrings(c.members)); err != nil {
			return err
		}
		return s.patchMembers(c, op, f)
	case attr == "roles":
		if err := s.checkRemoveTarget(op, f, c.roles); err != nil {
			return err
		}
		set, err := patchSet(c.roles, op, f, false)
		if err != nil {
			return err
		}
		c.roles = set
		return nil
	case attr == "entitlements":
		if v.account {
			return errAccountEntitlements()
		}
		set, err := patchSet(c.ents[v.ws], op, f, true)
		if err != nil {
			return err
		}
		if err := checkEntitlements(set); err != nil {
			return err
		}
		if c.ents == nil {
			c.ents = make(map[string][]string)
		}
		c.ents[v.ws] = set
		return nil
	case attr == "active":
		if c.kind == kindGroup {
			return errNoAttribute(op.path)
		}
		if op.op == "remove" {
			return errBadRequest("mutability", "The attribute active cannot be removed.")
		}
		if !s.opts.Lenient && isBool(op.value) {
			// No source documents a JSON boolean here: the SDK sends "false", Terraform
			// [{"value":"false"}] (§4.2 item 6).
			return errUnparsable()
		}
		active, perr := scim.ParseActive(op.value)
		if perr != nil {
			return errBadRequest("invalidValue", "Invalid value %s for active.", bytes.TrimSpace(op.value))
		}
		c.active = active
		return nil
	case attr == "displayname":
		if op.op == "remove" {
			c.displayName = ""
			return nil
		}
		name, err := parseString(op.value)
		if err != nil {
			return err
		}
		c.displayName = strings.TrimSpace(name)
		if len(c.displayName) > 255 {
			return errBadRequest("invalidValue", "displayName must be at most 255 characters.")
		}
		return nil
	case attr == "externalid":
		if op.op == "remove" {
			c.externalID = ""
			return nil
		}
		id, err := parseString(op.value)
		if err != nil {
			return err
		}
		if len(id) > 64 {
			return errBadRequest("invalidValue", "externalId must be at most 64 characters.")
		}
		c.externalID = id
		return nil
	case attr == "name" || attr == "name.givenname" || attr == "name.familyname":
		if c.kind != kindUser {
			return errNoAttribute(op.path)
		}
		return patchName(c, op, attr)
	case attr == "username" || attr == "emails" || strings.HasPrefix(attr, "emails[]") || strings.HasPrefix(attr, "emails."):
		// userName and emails cannot change; changes are silently ignored (§2.3).
		if c.kind != kindUser {
			return errNoAttribute(op.path)
		}
		return nil
	case attr == "applicationid":
		// applicationId is immutable (§2.5); like userName, a change is ignored.
		if c.kind != kindSP {
			return errNoAttribute(op.path)
		}
		return nil
	case attr == "schemas" || attr == "id" || attr == "meta":
		return nil
	case attr == "groups":
		if c.kind == kindGroup && !v.account {
			return errBadRequest("mutability", "The attribute groups is read-only; change the members of the parent group instead.")
		}
		if c.kind != kindGroup && !v.account {
			return errBadRequest("mutability", "The attribute groups is read-only; change the members of the group instead.")
		}
	}
	return errNoAttribute(op.path)
}

// patchSet applies an operation to a set of strings (roles, entitlements). With
// absentIsError, removing from an empty set is Databricks' invalidPath error (§4.2 item 5).
// An empty value in a replace or add means nothing, as Terraform sends [{"value":""}] for
// "no entitlements".
func patchSet(cur []string, op patchOp, f *filter, absentIsError bool) ([]string, *apiError) {
	switch op.op {
	case "add", "replace":
		vals, err := parseComplex(op.value)
		if err != nil {
			return nil, err
		}
		if op.op == "add" {
			vals = append(slices.Clone(cur), vals...)
		}
		return model.SortedSet(vals), nil
	}
	if absentIsError && len(cur) == 0 {
		return nil, errNoAttribute("entitlements")
	}
	var drop []string
	switch {
	case f != nil:
		for _, e := range cur {
			ok, err := matchValue(f, e)
			if err != nil {
				return nil, err
			}
			if ok {
				drop = append(drop, e)
			}
		}
	case op.hasValue:
		vals, err := parseComplex(op.value)
		if err != nil {
			return nil, err
		}
		drop = vals
	default:
		return nil, nil
	}
	out := []string{}
	for _, e := range cur {
		if !slices.Contains(drop, e) {
			out = append(out, e)
		}
	}
	return model.SortedSet(out), nil
}

// patchMembers changes c.members; the store validates the result on commit.
func (s *Server) patchMembers(c *object, op patchOp, f *filter) *apiError {
	ids := func() ([]int64, *apiError) {
		vals, err := parseComplex(op.value)
		if err != nil {
			return nil, err
		}
		out := make([]int64, 0, len(vals))
		for _, val := range vals {
			id, ok := parseID(val)
			if !ok {
				if s.opts.IgnoreUnknownMembers {
					continue
				}
				return nil, errBadRequest("invalidValue", "Member with id %s does not exist.", val)
			}
			out = append(out, id)
		}
		return out, nil
	}
	switch op.op {
	case "add", "replace":
		list, err := ids()
		if err != nil {
			return err
		}
		if op.op == "replace" {
			c.members = make(map[int64]struct{}, len(list))
		}
		for _, id := range list {
			c.members[id] = struct{}{}
		}
		return nil
	}
	switch {
	case f != nil:
		for id := range c.members {
			ok, err := matchValue(f, itoa(id))
			if err != nil {
				return err
			}
			if ok {
				delete(c.members, id)
			}
		}
	case op.hasValue:
		list, err := ids()
		if err != nil {
			return err
		}
		for _, id := range list {
			delete(c.members, id)
		}
	default:
		c.members = make(map[int64]struct{})
	}
	return nil
}

func patchName(c *object, op patchOp, attr string) *apiError {
	if op.op == "remove" {
		switch attr {
		case "name":
			c.givenName, c.familyName = "", ""
		case "name.givenname":
			c.givenName = ""
		default:
			c.familyName = ""
		}
		return nil
	}
	if attr != "name" {
		str, err := parseString(op.value)
		if err != nil {
			return err
		}
		if attr == "name.givenname" {
			c.givenName = str
		} else {
			c.familyName = str
		}
		return nil
	}
	var n scim.Name
	if err := json.Unmarshal(op.value, &n); err != nil {
		return errUnparsable()
	}
	if op.op == "replace" {
		c.givenName, c.familyName = n.GivenName, n.FamilyName
		return nil
	}
	if n.GivenName != "" {
		c.givenName = n.GivenName
	}
	if n.FamilyName != "" {
		c.familyName = n.FamilyName
	}
	return nil
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func memberStrings(m map[int64]struct{}) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, itoa(id))
	}
	return out
}

// checkRemoveTarget answers, with RemoveAbsentFails, a filtered remove that selects none
// of the current values with RFC 7644 §3.5.2.2's 400 noTarget. Whether Databricks does is
// UNKNOWN; by default such a remove succeeds and changes nothing.
func (s *Server) checkRemoveTarget(op patchOp, f *filter, cur []string) *apiError {
	if !s.opts.RemoveAbsentFails || op.op != "remove" || f == nil {
		return nil
	}
	for _, v := range cur {
		if ok, err := matchValue(f, v); err != nil || ok {
			return err
		}
	}
	return errBadRequest("noTarget", "No values match the path %s.", op.path)
}
