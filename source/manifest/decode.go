package manifest

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/schemas"
	"github.com/scimsync/scimsync/source/read"
)

// The YAML shapes of a manifest. The schema has already checked them when they are
// decoded, so decoding errors are unexpected and reported under rule "schema". Write
// encodes users, service principals and groups with the same shapes; the omitempty and
// flow options are for it.
type (
	fileDoc struct {
		Users             []yaml.Node `yaml:"users"`
		ServicePrincipals []yaml.Node `yaml:"servicePrincipals"`
		Groups            []yaml.Node `yaml:"groups"`
		Workspaces        []yaml.Node `yaml:"workspaces"`
	}
	userDoc struct {
		UserName     string   `yaml:"userName"`
		DisplayName  string   `yaml:"displayName,omitempty"`
		GivenName    string   `yaml:"givenName,omitempty"`
		FamilyName   string   `yaml:"familyName,omitempty"`
		Active       *bool    `yaml:"active,omitempty"`
		ExternalID   string   `yaml:"externalId,omitempty"`
		Entitlements []string `yaml:"entitlements,omitempty,flow"`
		Roles        []string `yaml:"roles,omitempty,flow"`
		Groups       []name   `yaml:"groups,omitempty"`
	}
	servicePrincipalDoc struct {
		DisplayName   string   `yaml:"displayName,omitempty"`
		ApplicationID string   `yaml:"applicationId,omitempty"`
		Active        *bool    `yaml:"active,omitempty"`
		ExternalID    string   `yaml:"externalId,omitempty"`
		Entitlements  []string `yaml:"entitlements,omitempty,flow"`
		Roles         []string `yaml:"roles,omitempty,flow"`
		Groups        []name   `yaml:"groups,omitempty"`
	}
	groupDoc struct {
		DisplayName string   `yaml:"displayName,omitempty"`
		Previously  []string `yaml:"previously,omitempty"`
		ExternalID  string   `yaml:"externalId,omitempty"`
		Members     struct {
			Users             []string `yaml:"users,omitempty"`
			Groups            []string `yaml:"groups,omitempty"`
			ServicePrincipals []string `yaml:"servicePrincipals,omitempty"`
		} `yaml:"members,omitempty"`
		Entitlements []string `yaml:"entitlements,omitempty,flow"`
		Roles        []string `yaml:"roles,omitempty,flow"`
	}
	workspaceDoc struct {
		ID           name        `yaml:"id"`
		Host         string      `yaml:"host"`
		Assignments  []yaml.Node `yaml:"assignments"`
		Entitlements []yaml.Node `yaml:"entitlements"`
	}
	// principalDoc names one principal; the schema ensures exactly one field is set.
	principalDoc struct {
		User             string   `yaml:"user"`
		Group            string   `yaml:"group"`
		ServicePrincipal string   `yaml:"servicePrincipal"`
		Permission       string   `yaml:"permission"`
		Entitlements     []string `yaml:"entitlements"`
	}
)

// name is a scalar with its position; numbers are taken as written.
type name struct {
	value        string
	line, column int
}

// UnmarshalYAML keeps the scalar's text and position.
func (n *name) UnmarshalYAML(node *yaml.Node) error {
	n.value, n.line, n.column = strings.TrimSpace(node.Value), node.Line, node.Column
	return nil
}

// parse validates and decodes every document of one file.
func parse(data []byte, file string) ([]*document, diag.List) {
	nodes, diags := schemas.ParseYAML(data, file)
	var docs []*document
	for _, n := range nodes {
		if tooMany(n, file, &diags) {
			continue
		}
		problems := schemas.ValidateYAML(n, file, schemas.Manifest)
		diags = append(diags, problems...)
		if problems.HasErrors() {
			continue
		}
		d := &document{}
		dec := decoder{file: file, doc: d, diags: &diags}
		dec.decode(n)
		docs = append(docs, d)
	}
	return docs, diags
}

// tooMany reports a document that declares more identities than read.MaxRecords, before
// the schema validation and decoding that would take seconds and gigabytes for it.
func tooMany(n *yaml.Node, file string, diags *diag.List) bool {
	if len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
		return false
	}
	m := n.Content[0]
	total := 0
	for i := 0; i+1 < len(m.Content); i += 2 {
		if v := m.Content[i+1]; v.Kind == yaml.SequenceNode {
			total += len(v.Content)
		}
	}
	if total <= read.MaxRecords {
		return false
	}
	diags.Errorf(model.Origin{File: file, Line: m.Line, Column: m.Column}, read.RuleTooMany,
		"the document declares %d identities, more than ten times what a Databricks account holds; it is not read further", total)
	return true
}

type decoder struct {
	file  string
	doc   *document
	diags *diag.List
}

func (d *decoder) origin(n *yaml.Node) model.Origin {
	return model.Origin{File: d.file, Line: n.Line, Column: n.Column}
}

// into decodes a node into v and reports a failure.
func (d *decoder) into(n *yaml.Node, v any) bool {
	if err := n.Decode(v); err != nil {
		d.diags.Errorf(d.origin(n), schemas.RuleSchema, "%v", err)
		return false
	}
	return true
}

func (d *decoder) decode(n *yaml.Node) {
	var f fileDoc
	if len(n.Content) == 0 || !d.into(n, &f) {
		return
	}
	s := &d.doc.state
	for i := range f.Users {
		item := &f.Users[i]
		var u userDoc
		if !d.into(item, &u) {
			continue
		}
		user := model.User{
			UserName:     strings.TrimSpace(u.UserName),
			DisplayName:  u.DisplayName,
			GivenName:    u.GivenName,
			FamilyName:   u.FamilyName,
			ExternalID:   u.ExternalID,
			Active:       u.Active == nil || *u.Active,
			Roles:        u.Roles,
			Entitlements: u.Entitlements,
			Origin:       d.origin(item),
		}
		s.Users = append(s.Users, user)
		d.memberships(u.Groups, model.Ref{Kind: model.KindUser, Key: user.Key()})
	}
	for i := range f.ServicePrincipals {
		item := &f.ServicePrincipals[i]
		var p servicePrincipalDoc
		if !d.into(item, &p) {
			continue
		}
		sp := model.ServicePrincipal{
			DisplayName:   strings.TrimSpace(p.DisplayName),
			ApplicationID: strings.TrimSpace(p.ApplicationID),
			ExternalID:    p.ExternalID,
			Active:        p.Active == nil || *p.Active,
			Roles:         p.Roles,
			Entitlements:  p.Entitlements,
			Origin:        d.origin(item),
		}
		s.ServicePrincipals = append(s.ServicePrincipals, sp)
		d.memberships(p.Groups, model.Ref{Kind: model.KindServicePrincipal, Key: sp.Key()})
	}
	for i := range f.Groups {
		item := &f.Groups[i]
		var g groupDoc
		if !d.into(item, &g) {
			continue
		}
		group := model.Group{
			DisplayName:  strings.TrimSpace(g.DisplayName),
			ExternalID:   g.ExternalID,
			Roles:        g.Roles,
			Entitlements: g.Entitlements,
			Origin:       d.origin(item),
		}
		for _, p := range g.Previously {
			group.Previously = append(group.Previously, model.GroupKey(p))
		}
		for _, m := range g.Members.Users {
			group.Members.Users = append(group.Members.Users, model.UserKey(m))
		}
		for _, m := range g.Members.Groups {
			group.Members.Groups = append(group.Members.Groups, model.GroupKey(m))
		}
		for _, m := range g.Members.ServicePrincipals {
			group.Members.ServicePrincipals = append(group.Members.ServicePrincipals, strings.TrimSpace(m))
		}
		s.Groups = append(s.Groups, group)
	}
	for i := range f.Workspaces {
		item := &f.Workspaces[i]
		var w workspaceDoc
		if !d.into(item, &w) {
			continue
		}
		ws := model.Workspace{ID: w.ID.value, Host: strings.TrimSpace(w.Host), Origin: d.origin(item)}
		for j := range w.Assignments {
			var a principalDoc
			if !d.into(&w.Assignments[j], &a) {
				continue
			}
			ws.Assignments = append(ws.Assignments, model.Assignment{
				Principal:  a.ref(),
				Permission: a.Permission,
				Origin:     d.origin(&w.Assignments[j]),
			})
		}
		for j := range w.Entitlements {
			var e principalDoc
			if !d.into(&w.Entitlements[j], &e) {
				continue
			}
			ws.Entitlements = append(ws.Entitlements, model.PrincipalEntitlements{
				Principal:    e.ref(),
				Entitlements: e.Entitlements,
				Origin:       d.origin(&w.Entitlements[j]),
			})
		}
		s.Workspaces = append(s.Workspaces, ws)
	}
}

// memberships records the groups a principal says it is a direct member of.
func (d *decoder) memberships(groups []name, member model.Ref) {
	for _, g := range groups {
		d.doc.memberships = append(d.doc.memberships, membership{
			group:  model.GroupKey(g.value),
			member: member,
			at:     model.Origin{File: d.file, Line: g.line, Column: g.column},
		})
	}
}

// ref returns the principal a workspace entry names, by its normalised key; service
// principals are resolved to their key once all sources are merged.
func (p principalDoc) ref() model.Ref {
	switch {
	case p.User != "":
		return model.Ref{Kind: model.KindUser, Key: model.UserKey(p.User)}
	case p.Group != "":
		return model.Ref{Kind: model.KindGroup, Key: model.GroupKey(p.Group)}
	}
	return model.Ref{Kind: model.KindServicePrincipal, Key: strings.TrimSpace(p.ServicePrincipal)}
}
