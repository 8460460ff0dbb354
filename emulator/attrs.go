package emulator

import (
	"strings"
)

// resource is a rendered SCIM resource. Keys are wire names; values are strings, bools,
// nested resources or lists of resources, so that projection can walk them.
type resource = map[string]any

// projection is the attributes / excludedAttributes of a request (§3). Paths are
// lower-cased, as SCIM attribute names are case-insensitive. id and schemas are always
// returned.
type projection struct {
	include map[string]bool // nil: everything not excluded
	exclude map[string]bool
}

func parseAttrList(s string) map[string]bool {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	out := make(map[string]bool)
	for _, a := range strings.Split(s, ",") {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			out[a] = true
		}
	}
	return out
}

func newProjection(attributes, excluded string) projection {
	return projection{include: parseAttrList(attributes), exclude: parseAttrList(excluded)}
}

// wants reports whether the top-level attribute (lower-cased) may appear in the output, so
// that expensive attributes are not computed for nothing.
func (p projection) wants(attr string) bool {
	if attr == "id" || attr == "schemas" {
		return true
	}
	if p.exclude[attr] {
		return false
	}
	if p.include == nil {
		return true
	}
	if p.include[attr] {
		return true
	}
	for a := range p.include {
		if strings.HasPrefix(a, attr+".") {
			return true
		}
	}
	return false
}

// apply removes from r what the projection leaves out.
func (p projection) apply(r resource) {
	if p.include == nil && p.exclude == nil {
		return
	}
	prune(r, "", p)
}

// prune applies the projection to the attributes of r found under prefix ("" or
// "parent.").
func prune(r resource, prefix string, p projection) {
	for k, v := range r {
		path := prefix + strings.ToLower(k)
		if prefix == "" && (path == "id" || path == "schemas") {
			continue
		}
		if p.exclude[path] {
			delete(r, k)
			continue
		}
		if p.include != nil && !p.include[path] && !includesBelow(p.include, path) && !includesAbove(p.include, path) {
			delete(r, k)
			continue
		}
		// Sub-attributes: prune below unless the whole attribute was included and
		// nothing below it is excluded.
		switch v := v.(type) {
		case resource:
			prune(v, path+".", p)
		case []resource:
			for _, e := range v {
				prune(e, path+".", p)
			}
		}
	}
}

// includesBelow reports whether a sub-attribute of path is included.
func includesBelow(include map[string]bool, path string) bool {
	for a := range include {
		if strings.HasPrefix(a, path+".") {
			return true
		}
	}
	return false
}

// includesAbove reports whether an ancestor of path is included.
func includesAbove(include map[string]bool, path string) bool {
	for i := strings.LastIndexByte(path, '.'); i > 0; i = strings.LastIndexByte(path[:i], '.') {
		if include[path[:i]] {
			return true
		}
	}
	return false
}
