package manifest

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/model"
)

// The YAML shapes Write produces besides those of decode.go.
type (
	outWorkspace struct {
		ID           string       `yaml:"id"`
		Host         string       `yaml:"host,omitempty"`
		Assignments  []outGrant   `yaml:"assignments,omitempty"`
		Entitlements []*yaml.Node `yaml:"entitlements,omitempty"`
	}
	// outGrant is one assignment, written as a flow mapping on one line.
	outGrant struct {
		kind       model.Kind
		name       string
		permission string
	}
)

// MarshalYAML writes the assignment as {group: name, permission: USER}.
func (g outGrant) MarshalYAML() (any, error) {
	n := principalNode(g.kind, g.name)
	n.Style = yaml.FlowStyle
	n.Content = append(n.Content, scalarNode("permission"), scalarNode(g.permission))
	return n, nil
}

func scalarNode(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

// principalNode returns a mapping that names a principal: user, group or servicePrincipal.
func principalNode(kind model.Kind, name string) *yaml.Node {
	key := "user"
	switch kind {
	case model.KindGroup:
		key = "group"
	case model.KindServicePrincipal:
		key = "servicePrincipal"
	}
	return &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalarNode(key), scalarNode(name)}}
}

// WriteOptions tune Write.
type WriteOptions struct {
	// Header is written first, each line as a YAML comment.
	Header string
}

// Write writes a state as one YAML manifest, valid against schemas/manifest.schema.json,
// that Read turns back into the same state (SCIM ids and origins aside): users, service
// principals, groups with their direct members, and workspaces with their assignments and
// per-workspace entitlements. Service principals are referred to by displayName where that
// is unambiguous, by applicationId otherwise. Write declares everything it is given; the
// caller leaves out what the manifest should not declare, and every reference it keeps
// must name an object of the state.
func Write(w io.Writer, s *model.State, opts WriteOptions) error {
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimRight(opts.Header, "\n"), "\n") {
		if opts.Header != "" {
			fmt.Fprintf(&b, "# %s\n", line)
		}
	}
	spName := servicePrincipalNames(s.ServicePrincipals)
	sections := []struct {
		key     string
		comment string
		items   any
		n       int
	}{
		{"users", "Users, by userName.", users(s.Users), len(s.Users)},
		{"servicePrincipals", "Service principals, by applicationId.", servicePrincipals(s.ServicePrincipals), len(s.ServicePrincipals)},
		{"groups", "Groups with their direct members.", groups(s.Groups, spName), len(s.Groups)},
		{"workspaces", "Workspaces: who is assigned, and the entitlements principals have in each.", workspaces(s.Workspaces, spName), len(s.Workspaces)},
	}
	for _, sec := range sections {
		if sec.n == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "# %s\n", sec.comment)
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(map[string]any{sec.key: sec.items}); err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
		if err := enc.Close(); err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// servicePrincipalNames maps the key of every service principal to the name a manifest
// refers to it by: its displayName when no other principal has it, else its applicationId.
func servicePrincipalNames(sps []model.ServicePrincipal) map[string]string {
	count := map[string]int{}
	appIDs := map[string]bool{}
	for i := range sps {
		count[strings.TrimSpace(sps[i].DisplayName)]++
		appIDs[model.ServicePrincipalKey(sps[i].ApplicationID)] = true
	}
	names := make(map[string]string, len(sps))
	for i := range sps {
		p := &sps[i]
		// A reference is an applicationId first, so a displayName that is one cannot serve.
		name := strings.TrimSpace(p.DisplayName)
		if name == "" || count[name] > 1 || appIDs[model.ServicePrincipalKey(name)] {
			name = p.ApplicationID
		}
		names[p.Key()] = name
	}
	return names
}

// inactive returns a pointer to false for inactive objects: active is written only when it
// is not the default.
func inactive(active bool) *bool {
	if active {
		return nil
	}
	f := false
	return &f
}

func users(list []model.User) []userDoc {
	out := make([]userDoc, len(list))
	for i, u := range list {
		out[i] = userDoc{UserName: u.UserName, DisplayName: u.DisplayName, GivenName: u.GivenName, FamilyName: u.FamilyName,
			Active: inactive(u.Active), ExternalID: u.ExternalID, Roles: u.Roles, Entitlements: u.Entitlements}
	}
	return out
}

func servicePrincipals(list []model.ServicePrincipal) []servicePrincipalDoc {
	out := make([]servicePrincipalDoc, len(list))
	for i, p := range list {
		out[i] = servicePrincipalDoc{DisplayName: p.DisplayName, ApplicationID: p.ApplicationID, Active: inactive(p.Active),
			ExternalID: p.ExternalID, Roles: p.Roles, Entitlements: p.Entitlements}
	}
	return out
}

func groups(list []model.Group, spName map[string]string) []groupDoc {
	out := make([]groupDoc, len(list))
	for i, g := range list {
		d := &out[i]
		*d = groupDoc{DisplayName: g.DisplayName, ExternalID: g.ExternalID, Roles: g.Roles, Entitlements: g.Entitlements}
		d.Members.Users, d.Members.Groups = g.Members.Users, g.Members.Groups
		for _, k := range g.Members.ServicePrincipals {
			d.Members.ServicePrincipals = append(d.Members.ServicePrincipals, refName(spName, k))
		}
	}
	return out
}

func refName(spName map[string]string, key string) string {
	if n, ok := spName[key]; ok {
		return n
	}
	return key
}

func workspaces(list []model.Workspace, spName map[string]string) []outWorkspace {
	name := func(r model.Ref) string {
		if r.Kind == model.KindServicePrincipal {
			return refName(spName, r.Key)
		}
		return r.Key
	}
	out := make([]outWorkspace, len(list))
	for i, w := range list {
		ow := outWorkspace{ID: w.ID, Host: w.Host}
		for _, a := range w.Assignments {
			ow.Assignments = append(ow.Assignments, outGrant{kind: a.Principal.Kind, name: name(a.Principal), permission: a.Permission})
		}
		for _, pe := range w.Entitlements {
			if len(pe.Entitlements) == 0 {
				continue
			}
			n := principalNode(pe.Principal.Kind, name(pe.Principal))
			list := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, e := range pe.Entitlements {
				list.Content = append(list.Content, scalarNode(e))
			}
			n.Content = append(n.Content, scalarNode("entitlements"), list)
			ow.Entitlements = append(ow.Entitlements, n)
		}
		out[i] = ow
	}
	return out
}
