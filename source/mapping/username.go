package mapping

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// UserName builds userNames from a list of alternatives, tried in order. An alternative
// is an attribute (or column) name, such as mail, whose value is taken as it is; or a
// template, such as "{uid}@example.com", in which each {attribute} is replaced by that
// attribute's value and the result is lower-cased. The first alternative that yields a
// valid e-mail address wins.
type UserName struct {
	alts []alternative
}

type alternative struct {
	text     string // as written in the config
	template bool
	parts    []part
}

// part is literal text or, when attr is set, an attribute to substitute.
type part struct {
	literal string
	attr    string
}

// NewUserName compiles userName alternatives. A template with an unclosed or empty
// brace, or a brace inside braces, is an error.
func NewUserName(alts []string) (*UserName, error) {
	u := &UserName{}
	for _, text := range alts {
		a := alternative{text: text}
		if !strings.ContainsAny(text, "{}") {
			a.parts = []part{{attr: strings.TrimSpace(text)}}
			u.alts = append(u.alts, a)
			continue
		}
		a.template = true
		rest := text
		for rest != "" {
			open := strings.IndexByte(rest, '{')
			closeAt := strings.IndexByte(rest, '}')
			switch {
			case open < 0 && closeAt < 0:
				a.parts = append(a.parts, part{literal: rest})
				rest = ""
				continue
			case closeAt >= 0 && (open < 0 || closeAt < open):
				return nil, fmt.Errorf("userName template %q has a } without {", text)
			}
			if open > 0 {
				a.parts = append(a.parts, part{literal: rest[:open]})
			}
			rest = rest[open+1:]
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return nil, fmt.Errorf("userName template %q has a { without }", text)
			}
			name := strings.TrimSpace(rest[:end])
			if name == "" || strings.ContainsAny(name, "{") {
				return nil, fmt.Errorf("userName template %q: {%s} does not name an attribute", text, rest[:end])
			}
			a.parts = append(a.parts, part{attr: name})
			rest = rest[end+1:]
		}
		u.alts = append(u.alts, a)
	}
	return u, nil
}

// Attributes returns the attributes the alternatives read, in order, without repeats.
func (u *UserName) Attributes() []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range u.alts {
		for _, p := range a.parts {
			if k := strings.ToLower(p.attr); p.attr != "" && !seen[k] {
				seen[k] = true
				out = append(out, p.attr)
			}
		}
	}
	return out
}

// Describe lists the alternatives for messages: "mail or userPrincipalName".
func (u *UserName) Describe() string {
	texts := make([]string, len(u.alts))
	for i, a := range u.alts {
		texts[i] = a.text
	}
	return strings.Join(texts, " or ")
}

// UserNameResult is the outcome of UserName.Eval.
type UserNameResult struct {
	// UserName is the userName built; empty when no alternative yields a valid one.
	UserName string
	// Invalid lists, when UserName is empty, for each alternative whose attributes all had values but whose
	// result is not an e-mail address, that alternative and its result. When UserName is
	// empty and Invalid is not, the entry has values but no valid userName: an error;
	// when both are empty, the entry has none of the attributes.
	Invalid []string
	// Multi names the attributes the winning alternative read that have several values;
	// the first was used.
	Multi []string
}

// Eval builds the userName of an entry whose attribute values get returns (nil or empty
// when it has none).
func (u *UserName) Eval(get func(attr string) []string) UserNameResult {
	var res UserNameResult
	for _, a := range u.alts {
		var b strings.Builder
		var multi []string
		complete := true
		for _, p := range a.parts {
			if p.attr == "" {
				b.WriteString(p.literal)
				continue
			}
			values := nonEmpty(get(p.attr))
			if len(values) == 0 {
				complete = false
				break
			}
			if len(values) > 1 {
				multi = append(multi, p.attr)
			}
			b.WriteString(values[0])
		}
		if !complete {
			continue
		}
		v := strings.TrimSpace(b.String())
		if a.template {
			v = strings.ToLower(v)
		}
		if ValidEmail(v) {
			return UserNameResult{UserName: v, Multi: multi}
		}
		res.Invalid = append(res.Invalid, fmt.Sprintf("%s gives %s", a.text, quote(v)))
	}
	return res
}

func nonEmpty(values []string) []string {
	var out []string
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" && !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// ValidEmail reports whether s looks like an email address: one @, a local part of 1 to
// 64 characters, a domain of dot-separated labels of 1 to 63 letters, digits and inner
// hyphens whose last label is not a number (so no IP address), and no spaces, control
// characters or characters that need quoting.
func ValidEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || !utf8.ValidString(s) || local == "" || strings.Contains(domain, "@") || strings.ContainsAny(s, " \t\r\n<>()[],;:\\\"") || strings.ContainsFunc(s, unicode.IsControl) {
		return false
	}
	if utf8.RuneCountInString(local) > maxEmailLocal || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || utf8.RuneCountInString(l) > maxDomainLabel || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") ||
			strings.ContainsFunc(l, func(r rune) bool { return r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			return false
		}
	}
	return strings.ContainsFunc(labels[len(labels)-1], unicode.IsLetter)
}

// The bounds of an email address's parts (RFC 5321 §4.5.3.1): source.MaxEmailLocal and
// source.MaxDomainLabel name the same numbers for the rule messages.
const (
	maxEmailLocal  = 64
	maxDomainLabel = 63
)
