package source

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/read"
)

// shape applies the settings every source has to what it read, in this order: exclude
// drops the groups whose names match one of its patterns; cycles: break drops the
// membership that closes each membership cycle; scope.groups keeps only the users that
// are members of one of its groups, directly or through nested groups. What it leaves
// out is counted in skipped. The state stays normalised.
func shape(src config.Source, s *model.State, skipped *read.Skipped) diag.List {
	var diags diag.List
	diags = append(diags, exclude(src, s, skipped)...)
	if src.Cycles == config.CyclesBreak {
		diags = append(diags, breakCycles(s)...)
	}
	diags = append(diags, scope(src, s, skipped)...)
	return diags
}

// exclude drops the groups whose names match one of the source's exclude patterns, and
// their memberships in other groups. Their members stay declared.
func exclude(src config.Source, s *model.State, skipped *read.Skipped) diag.List {
	var diags diag.List
	var patterns []*regexp.Regexp
	for i, p := range src.Exclude {
		re, err := regexp.Compile(p)
		if err != nil {
			diags.Errorf(read.At(src, "exclude", i), RuleInvalidSetting, "exclude[%d]: %v", i, err)
			continue
		}
		patterns = append(patterns, re)
	}
	if len(patterns) == 0 {
		return diags
	}
	dropped := map[string]bool{}
	s.Groups = slices.DeleteFunc(s.Groups, func(g model.Group) bool {
		if slices.ContainsFunc(patterns, func(re *regexp.Regexp) bool { return re.MatchString(g.DisplayName) }) {
			dropped[g.Key()] = true
			return true
		}
		return false
	})
	for i := range s.Groups {
		m := &s.Groups[i].Members
		m.Groups = slices.DeleteFunc(m.Groups, func(k string) bool { return dropped[k] })
	}
	skipped.Add(read.Excluded, len(dropped))
	return diags
}

// breakCycles drops, for every membership cycle among the groups of s, the membership
// that closes it — found by a depth-first walk in the order of the groups, so that the
// same state always loses the same memberships — with a warning naming both groups.
func breakCycles(s *model.State) diag.List {
	var diags diag.List
	ix := make(map[string]*model.Group, len(s.Groups))
	for i := range s.Groups {
		ix[s.Groups[i].Key()] = &s.Groups[i]
	}
	const (
		unseen = iota
		open
		done
	)
	state := make(map[*model.Group]int, len(s.Groups))
	var stack []string
	var visit func(g *model.Group)
	visit = func(g *model.Group) {
		state[g] = open
		stack = append(stack, g.DisplayName)
		kept := g.Members.Groups[:0]
		for _, k := range g.Members.Groups {
			m := ix[k]
			if m != nil && state[m] == open {
				i := slices.Index(stack, m.DisplayName)
				loop := append(slices.Clone(stack[i:]), m.DisplayName)
				diags.Warnf(g.Origin, RuleMembershipCycle,
					"membership cycle %s broken (cycles: break): group %q is no longer a member of group %q",
					strings.Join(loop, " > "), m.DisplayName, g.DisplayName)
				continue
			}
			kept = append(kept, k)
			if m != nil && state[m] == unseen {
				visit(m)
			}
		}
		g.Members.Groups = kept
		stack = stack[:len(stack)-1]
		state[g] = done
	}
	for i := range s.Groups {
		if g := &s.Groups[i]; state[g] == unseen {
			visit(g)
		}
	}
	return diags
}

// scope keeps only the users that are members of one of the source's scope.groups,
// directly or through nested groups, and drops the others from the state and from every
// group's members.
func scope(src config.Source, s *model.State, skipped *read.Skipped) diag.List {
	var diags diag.List
	if len(src.Scope.Groups) == 0 {
		return nil
	}
	ix := make(map[string]*model.Group, len(s.Groups))
	for i := range s.Groups {
		ix[s.Groups[i].Key()] = &s.Groups[i]
	}
	in := map[string]bool{}
	seen := map[string]bool{}
	var queue []*model.Group
	for i, name := range src.Scope.Groups {
		g := ix[model.GroupKey(name)]
		if g == nil {
			diags.Errorf(read.At(src, "scope", "groups", i), RuleInvalidSetting,
				"scope.groups names group %q, which this %s source does not declare; its users would all be left out", name, src.Kind)
			continue
		}
		if !seen[g.Key()] {
			seen[g.Key()] = true
			queue = append(queue, g)
		}
	}
	if diags.HasErrors() {
		return diags
	}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		for _, u := range g.Members.Users {
			in[u] = true
		}
		for _, k := range g.Members.Groups {
			if m := ix[k]; m != nil && !seen[k] {
				seen[k] = true
				queue = append(queue, m)
			}
		}
	}
	before := len(s.Users)
	s.Users = slices.DeleteFunc(s.Users, func(u model.User) bool { return !in[u.Key()] })
	for i := range s.Groups {
		m := &s.Groups[i].Members
		m.Users = slices.DeleteFunc(m.Users, func(k string) bool { return !in[k] })
	}
	skipped.Add(read.NotInScopeGroup, before-len(s.Users))
	return diags
}

// Summary says what one source read and what it left out, by reason.
type Summary struct {
	Kind                             string
	Origin                           model.Origin // where the source is declared; zero for command-line paths
	Paths                            []string
	Users, ServicePrincipals, Groups int
	Skipped                          read.Skipped
}

// String is the summary's line: "ldif source at scimsync.yaml:3:5: 12 users, 3 groups;
// skipped: 2 guests, 1 without userName".
func (s Summary) String() string {
	var b strings.Builder
	if s.Origin.IsZero() {
		fmt.Fprintf(&b, "manifests %s: ", strings.Join(s.Paths, ", "))
	} else {
		fmt.Fprintf(&b, "%s source at %s: ", s.Kind, s.Origin)
	}
	b.WriteString(read.Count(s.Users, "user", "users"))
	if s.ServicePrincipals > 0 {
		b.WriteString(", " + read.Count(s.ServicePrincipals, "service principal", "service principals"))
	}
	b.WriteString(", " + read.Count(s.Groups, "group", "groups"))
	if len(s.Skipped) > 0 {
		b.WriteString("; skipped: " + s.Skipped.String())
	}
	return b.String()
}
