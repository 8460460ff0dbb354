package emulator

import (
	"strconv"
	"strings"
)

// maxFilterNodes is the node limit of a filter (§3, SCIM 2.1 reference).
const maxFilterNodes = 200

// filter is a parsed SCIM filter: either a logical node (and, or) with two operands or a
// comparison of an attribute with a value.
type filter struct {
	op          string // and, or, eq, ne, co, sw
	left, right *filter
	attr        string // lower-cased attribute path
	value       string
	quoted      bool
}

// Filter errors (§3).
func errFilter(format string, args ...any) *apiError {
	return errBadRequest("invalidFilter", format, args...)
}

func errFilterOperator(op string) *apiError {
	return errFilter("Given filter operator is not supported: %s", op)
}

type tokenKind int

const (
	tokWord tokenKind = iota
	tokString
	tokLParen
	tokRParen
)

type token struct {
	kind tokenKind
	text string
	pos  int
}

// tokenize splits a filter into words, quoted strings (double or single quotes, with
// backslash escapes) and parentheses.
func tokenize(src string) ([]token, *apiError) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i})
			i++
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(src) {
				d := src[j]
				if d == '\\' && j+1 < len(src) {
					b.WriteByte(src[j+1])
					j += 2
					continue
				}
				if d == c {
					closed = true
					j++
					break
				}
				b.WriteByte(d)
				j++
			}
			if !closed {
				return nil, errFilter("Unterminated string at position %d in filter.", i)
			}
			toks = append(toks, token{tokString, b.String(), i})
			i = j
		default:
			j := i
			for j < len(src) && !strings.ContainsRune(" \t\n\r()", rune(src[j])) {
				j++
			}
			toks = append(toks, token{tokWord, src[i:j], i})
			i = j
		}
	}
	return toks, nil
}

// parseFilter parses a filter with a recursive descent over this grammar:
//
//	expr   = term *("or" term)
//	term   = factor *("and" factor)
//	factor = "(" expr ")" / attrPath op value
//
// Operators other than eq, ne, co and sw, and "not", are refused with Databricks' text;
// more than 200 nodes is INVALID_FILTER (§3).
func parseFilter(src string) (*filter, *apiError) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errFilter("Empty filter.")
	}
	p := &filterParser{toks: toks}
	f, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, errFilter("Unexpected %q at position %d in filter.", p.toks[p.i].text, p.toks[p.i].pos)
	}
	return f, nil
}

type filterParser struct {
	toks  []token
	i     int
	nodes int
}

func (p *filterParser) peekWord(w string) bool {
	return p.i < len(p.toks) && p.toks[p.i].kind == tokWord && strings.EqualFold(p.toks[p.i].text, w)
}

func (p *filterParser) node() *apiError {
	p.nodes++
	if p.nodes > maxFilterNodes {
		return errFilter("INVALID_FILTER: the filter has more than %d nodes.", maxFilterNodes)
	}
	return nil
}

func (p *filterParser) expr(depth int) (*filter, *apiError) {
	if depth > maxFilterNodes {
		return nil, errFilter("INVALID_FILTER: the filter has more than %d nodes.", maxFilterNodes)
	}
	left, err := p.term(depth)
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.i++
		if err := p.node(); err != nil {
			return nil, err
		}
		right, err := p.term(depth)
		if err != nil {
			return nil, err
		}
		left = &filter{op: "or", left: left, right: right}
	}
	return left, nil
}

func (p *filterParser) term(depth int) (*filter, *apiError) {
	left, err := p.factor(depth)
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.i++
		if err := p.node(); err != nil {
			return nil, err
		}
		right, err := p.factor(depth)
		if err != nil {
			return nil, err
		}
		left = &filter{op: "and", left: left, right: right}
	}
	return left, nil
}

func (p *filterParser) factor(depth int) (*filter, *apiError) {
	if p.i >= len(p.toks) {
		return nil, errFilter("Unexpected end of filter.")
	}
	t := p.toks[p.i]
	switch {
	case t.kind == tokLParen:
		p.i++
		f, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.i >= len(p.toks) || p.toks[p.i].kind != tokRParen {
			return nil, errFilter("Missing ) in filter.")
		}
		p.i++
		return f, nil
	case t.kind != tokWord:
		return nil, errFilter("Unexpected %q at position %d in filter.", t.text, t.pos)
	case strings.EqualFold(t.text, "not"):
		return nil, errFilterOperator("not")
	}
	if err := p.node(); err != nil {
		return nil, err
	}
	p.i++
	if p.i >= len(p.toks) || p.toks[p.i].kind != tokWord {
		return nil, errFilter("Missing operator after %s in filter.", t.text)
	}
	op := strings.ToLower(p.toks[p.i].text)
	switch op {
	case "eq", "ne", "co", "sw":
	default:
		return nil, errFilterOperator(p.toks[p.i].text)
	}
	p.i++
	if p.i >= len(p.toks) || (p.toks[p.i].kind != tokWord && p.toks[p.i].kind != tokString) {
		return nil, errFilter("Missing value after %s %s in filter.", t.text, op)
	}
	v := p.toks[p.i]
	p.i++
	return &filter{op: op, attr: strings.ToLower(t.text), value: v.text, quoted: v.kind == tokString}, nil
}

// filterAttrs are the attributes each kind can be filtered on, lower-cased. Which ones the
// real server allows is UNKNOWN beyond userName, displayName, active and applicationId (§3).
var filterAttrs = [3]map[string]bool{
	kindUser:  {"id": true, "username": true, "displayname": true, "active": true, "externalid": true, "emails": true, "emails.value": true, "name.givenname": true, "name.familyname": true},
	kindSP:    {"id": true, "applicationid": true, "displayname": true, "active": true, "externalid": true},
	kindGroup: {"id": true, "displayname": true, "externalid": true},
}

// check verifies that every attribute of the filter can be used on kind k and that
// active is compared with a boolean.
func (f *filter) check(k kind) *apiError {
	if f.op == "and" || f.op == "or" {
		if err := f.left.check(k); err != nil {
			return err
		}
		return f.right.check(k)
	}
	if !filterAttrs[k][f.attr] {
		return errFilter("Unsupported filter attribute %s for %s.", f.attr, k.resource())
	}
	if f.attr == "active" {
		if f.op != "eq" && f.op != "ne" {
			return errFilterOperator(f.op)
		}
		if _, err := strconv.ParseBool(f.value); err != nil {
			return errFilter("Invalid boolean %q for active in filter.", f.value)
		}
	}
	return nil
}

// match evaluates the filter on an object.
func (f *filter) match(o *object, caseExactUserName bool) bool {
	switch f.op {
	case "and":
		return f.left.match(o, caseExactUserName) && f.right.match(o, caseExactUserName)
	case "or":
		return f.left.match(o, caseExactUserName) || f.right.match(o, caseExactUserName)
	}
	var got string
	fold := false
	switch f.attr {
	case "id":
		got = o.idString()
	case "username", "emails", "emails.value":
		got, fold = o.userName, !caseExactUserName
	case "applicationid":
		got, fold = o.appID, true
	case "displayname":
		got = o.displayName
	case "externalid":
		got = o.externalID
	case "name.givenname":
		got = o.givenName
	case "name.familyname":
		got = o.familyName
	case "active":
		want, _ := strconv.ParseBool(f.value)
		return (o.active == want) == (f.op == "eq")
	}
	want := f.value
	if fold {
		got, want = strings.ToLower(got), strings.ToLower(want)
	}
	switch f.op {
	case "eq":
		return got == want
	case "ne":
		return got != want
	case "co":
		return strings.Contains(got, want)
	case "sw":
		return strings.HasPrefix(got, want)
	}
	return false
}
