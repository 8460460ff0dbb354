package source

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/scimsync/scimsync/model"
)

// The rules of names: what a reviewer must be able to read, and lengths the service keeps.
const (
	RuleInvisibleCharacter = "invisible-character" // a control, zero-width, bidi or other invisible character in a name
	RuleMixedScript        = "mixed-script"        // a warning: a name mixes look-alike scripts (a Cyrillic а in a Latin name)
	RuleNameTooLong        = "name-too-long"       // a userName, displayName or name part longer than Databricks keeps
)

// Length limits of names. The reference gives only the group displayName (255) and
// externalId (64) limits (§2.3, §2.4); for the rest it says nothing, so these are bounds
// that are safe whatever the service does: an email address is at most 254 characters
// with a local part of at most 64 and domain labels of at most 63 (RFC 5321 §4.5.3.1,
// RFC 1035 §2.3.4), and user and service principal displayNames and name parts are held
// to the group limit of 255.
const (
	MaxUserName      = 254
	MaxEmailLocal    = 64
	MaxDomainLabel   = 63
	MaxDisplayName   = 255
	maxQuotedInError = 80 // characters of a name quoted in a diagnostic
)

// names checks the names of every user, service principal and group: no invisible
// characters where a name identifies the object, lengths within the limits above, and a
// warning for names that mix look-alike scripts.
func (c *checker) names() {
	for i := range c.s.Users {
		u := &c.s.Users[i]
		c.identifying(u.Origin, "userName", u.UserName)
		if n := utf8.RuneCountInString(u.UserName); n > MaxUserName {
			c.errorf(u.Origin, RuleNameTooLong, "userName %s is %d characters long; an email address has at most %d", quoteShort(u.UserName), n, MaxUserName)
		}
		for _, f := range []struct{ name, value string }{{"displayName", u.DisplayName}, {"givenName", u.GivenName}, {"familyName", u.FamilyName}} {
			if n := utf8.RuneCountInString(f.value); n > MaxDisplayName {
				c.errorf(u.Origin, RuleNameTooLong, "user %s: %s is %d characters long; at most %d are accepted", quoteShort(u.UserName), f.name, n, MaxDisplayName)
			}
		}
	}
	for i := range c.s.ServicePrincipals {
		p := &c.s.ServicePrincipals[i]
		c.identifying(p.Origin, "service principal displayName", p.DisplayName)
		if n := utf8.RuneCountInString(p.DisplayName); n > MaxDisplayName {
			c.errorf(p.Origin, RuleNameTooLong, "service principal displayName %s is %d characters long; at most %d are accepted", quoteShort(p.DisplayName), n, MaxDisplayName)
		}
	}
	for i := range c.s.Groups {
		g := &c.s.Groups[i]
		c.identifying(g.Origin, "group name", g.DisplayName)
		for _, old := range g.Previously {
			c.identifying(g.Origin, "previous group name", old)
		}
	}
}

// identifying checks a name that identifies an object: it must hold no invisible
// characters (two names that differ only by one look the same in a review), and a name
// that mixes look-alike scripts is worth a warning.
func (c *checker) identifying(at model.Origin, what, name string) {
	if i := strings.IndexFunc(name, model.IsInvisible); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		c.errorf(at, RuleInvisibleCharacter, "%s %s holds the invisible or control character %U at character %d; names must be visible text",
			what, quoteShort(name), r, utf8.RuneCountInString(name[:i])+1)
		return
	}
	if scripts, r := mixedScripts(name); scripts != "" {
		c.diags.Warnf(at, RuleMixedScript, "%s %s mixes %s letters (%U is %s): it may be a look-alike of another name",
			what, quoteShort(name), scripts, r, scriptOf(r))
	}
}

// confusable are the scripts whose letters are easily taken for one another's.
var confusable = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek},
	{"Armenian", unicode.Armenian}, {"Cherokee", unicode.Cherokee}, {"Coptic", unicode.Coptic},
}

func scriptOf(r rune) string {
	for _, s := range confusable {
		if unicode.Is(s.table, r) {
			return s.name
		}
	}
	return ""
}

// mixedScripts looks at each word of a name (a run of letters, digits and marks; "@",
// ".", "-" and the like separate words, so a Latin local part may have a Cyrillic domain)
// and returns the confusable scripts the letters of the first mixed word come from,
// joined with "and", and the first letter of the second script met; "" when no word
// mixes scripts.
func mixedScripts(name string) (string, rune) {
	var seen []string
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
			seen = seen[:0]
			continue
		}
		s := scriptOf(r)
		if s == "" || slices.Contains(seen, s) {
			continue
		}
		seen = append(seen, s)
		if len(seen) == 2 {
			return strings.Join(seen, " and "), r
		}
	}
	return "", 0
}

// LookAlikes returns the mixed-script warnings of a state's names, for a plan to show
// beside its changes.
func LookAlikes(s *model.State) []string {
	c := &checker{s: s}
	c.names()
	var out []string
	for _, d := range c.diags {
		if d.Rule == RuleMixedScript {
			out = append(out, d.String())
		}
	}
	return out
}

// quoteShort quotes a name for a diagnostic, cut to its first maxQuotedInError
// characters, with non-printable characters escaped as Go quotes them and the invisible
// ones Go considers printable (such as the Hangul filler) escaped too.
func quoteShort(s string) string {
	more := ""
	if utf8.RuneCountInString(s) > maxQuotedInError {
		n := 0
		for i := range s {
			if n == maxQuotedInError {
				s, more = s[:i], "…"
				break
			}
			n++
		}
	}
	q := strconv.Quote(s)
	if strings.ContainsFunc(q, model.IsInvisible) {
		var b strings.Builder
		for _, r := range q {
			if model.IsInvisible(r) {
				fmt.Fprintf(&b, "\\u%04x", r)
			} else {
				b.WriteRune(r)
			}
		}
		q = b.String()
	}
	return q + more
}
