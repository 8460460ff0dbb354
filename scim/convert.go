package scim

import (
	"github.com/scimsync/scimsync/model"
)

// values wraps strings as SCIM complex values.
func values(list []string) []ComplexValue {
	if len(list) == 0 {
		return nil
	}
	out := make([]ComplexValue, 0, len(list))
	for _, v := range list {
		out = append(out, ComplexValue{Value: v})
	}
	return out
}

// strs returns the values of SCIM complex values, sorted and de-duplicated.
func strs(list []ComplexValue) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		out = append(out, v.Value)
	}
	return model.SortedSet(out)
}

// active reads an optional active flag; Databricks principals are active unless they say
// otherwise.
func active(b *bool) bool { return b == nil || *b }

// UserFromModel converts a model user into the SCIM body that creates it. Entitlements are
// sent only when withEntitlements is set (workspace level); account users have none.
func UserFromModel(u *model.User, withEntitlements bool) *User {
	w := &User{
		Schemas:     []string{SchemaUser},
		UserName:    u.UserName,
		DisplayName: u.DisplayName,
		ExternalID:  u.ExternalID,
		Active:      Bool(u.Active),
		Roles:       values(u.Roles),
	}
	if u.GivenName != "" || u.FamilyName != "" {
		w.Name = &Name{GivenName: u.GivenName, FamilyName: u.FamilyName}
	}
	if withEntitlements {
		w.Entitlements = values(u.Entitlements)
	}
	return w
}

// ServicePrincipalFromModel converts a model service principal into the SCIM body that
// creates it. An empty ApplicationID lets Databricks generate one.
func ServicePrincipalFromModel(p *model.ServicePrincipal, withEntitlements bool) *ServicePrincipal {
	w := &ServicePrincipal{
		Schemas:       []string{SchemaServicePrincipal},
		ApplicationID: p.ApplicationID,
		DisplayName:   p.DisplayName,
		ExternalID:    p.ExternalID,
		Active:        Bool(p.Active),
		Roles:         values(p.Roles),
	}
	if withEntitlements {
		w.Entitlements = values(p.Entitlements)
	}
	return w
}

// GroupFromModel converts a model group into the SCIM body that creates it, without
// members (apply adds members in a later phase).
func GroupFromModel(g *model.Group, withEntitlements bool) *Group {
	w := &Group{
		Schemas:     []string{SchemaGroup},
		DisplayName: g.DisplayName,
		ExternalID:  g.ExternalID,
		Roles:       values(g.Roles),
	}
	if withEntitlements {
		w.Entitlements = values(g.Entitlements)
	}
	return w
}

// ToModel converts a SCIM user into the model, keeping its id.
func (u *User) ToModel() model.User {
	m := model.User{
		ID:           u.ID,
		UserName:     u.UserName,
		DisplayName:  u.DisplayName,
		ExternalID:   u.ExternalID,
		Active:       active(u.Active),
		Roles:        strs(u.Roles),
		Entitlements: strs(u.Entitlements),
	}
	if u.Name != nil {
		m.GivenName, m.FamilyName = u.Name.GivenName, u.Name.FamilyName
	}
	return m
}

// ToModel converts a SCIM service principal into the model, keeping its id.
func (p *ServicePrincipal) ToModel() model.ServicePrincipal {
	return model.ServicePrincipal{
		ID:            p.ID,
		ApplicationID: p.ApplicationID,
		DisplayName:   p.DisplayName,
		ExternalID:    p.ExternalID,
		Active:        active(p.Active),
		Roles:         strs(p.Roles),
		Entitlements:  strs(p.Entitlements),
	}
}

// ToModel converts a SCIM group into the model, keeping its id. Members are not converted:
// they are SCIM ids, which only a whole snapshot can turn into keys.
func (g *Group) ToModel() model.Group {
	return model.Group{
		ID:           g.ID,
		DisplayName:  g.DisplayName,
		ExternalID:   g.ExternalID,
		Roles:        strs(g.Roles),
		Entitlements: strs(g.Entitlements),
	}
}
