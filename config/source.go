package config

import (
	"time"

	"github.com/scimsync/scimsync/model"
)

// Source kinds.
const (
	SourceYAML      = "yaml"      // native YAML manifests: files or directories
	SourceCSV       = "csv"       // CSV manifests: users.csv, groups.csv, memberships.csv
	SourceLDIF      = "ldif"      // LDIF export of a directory
	SourceLDAP      = "ldap"      // live LDAP search
	SourceEntra     = "entra"     // Microsoft Entra ID "Download users" CSV
	SourceOkta      = "okta"      // Okta user export CSV
	SourceJumpCloud = "jumpcloud" // JumpCloud user CSV
	SourceGoogle    = "google"    // Google Workspace "Download users" CSV
)

// Source is one source of desired state in the config.
type Source struct {
	Kind string `yaml:"kind"`
	// Paths are files or directories, relative to the config file. A single string in the
	// file is accepted as a list of one.
	Paths []string `yaml:"path"`
	// Users, Groups, Memberships and ServicePrincipals name the files of a CSV manifest
	// (kind csv), relative to the config file. A file named here is read instead of the
	// file of the same role (users.csv, groups.csv, memberships.csv,
	// servicePrincipals.csv) in the directories listed in Paths.
	Users             string `yaml:"users"`
	Groups            string `yaml:"groups"`
	Memberships       string `yaml:"memberships"`
	ServicePrincipals string `yaml:"servicePrincipals"`
	// Mapping says how directory entries and export rows become identities.
	Mapping Mapping `yaml:"mapping"`
	// LDAP holds the connection settings of a live LDAP source.
	LDAP LDAP `yaml:"ldap"`
	// AllowEmpty accepts a source that yields no users. Without it, an empty source is an
	// error, so that it never turns into mass removals.
	AllowEmpty bool `yaml:"allowEmpty"`
	// Origin is where the source is declared in the config file.
	Origin model.Origin `yaml:"-"`
}

// Mapping maps directory attributes or CSV columns to identity attributes. Empty fields take
// each source kind's defaults.
type Mapping struct {
	UserName    string     `yaml:"userName"`
	DisplayName string     `yaml:"displayName"`
	GivenName   string     `yaml:"givenName"`
	FamilyName  string     `yaml:"familyName"`
	ExternalID  string     `yaml:"externalId"`
	Active      ActiveRule `yaml:"active"`
	Users       UserScope  `yaml:"users"`
	Groups      GroupScope `yaml:"groups"`
	GroupName   NameRule   `yaml:"groupName"`
	// IncludeGuests keeps Entra ID guest users (#EXT# userPrincipalNames).
	IncludeGuests bool `yaml:"includeGuests"`
}

// ActiveRule says how a user's active flag is read.
type ActiveRule struct {
	// Attribute names the attribute or column that decides; empty means always active.
	Attribute string `yaml:"attribute"`
	// DisabledBit, when non-zero, treats Attribute as an integer bit field (such as Active
	// Directory's userAccountControl, bit 2 = ACCOUNTDISABLE) and the user as inactive when
	// the bit is set.
	DisabledBit int `yaml:"disabledBit"`
	// ActiveValues and InactiveValues list attribute values (case-insensitive) that mean
	// active or inactive; when only one list is given, any other value means the opposite.
	ActiveValues   []string `yaml:"activeValues"`
	InactiveValues []string `yaml:"inactiveValues"`
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

// NameRule transforms directory group names into Databricks group names.
type NameRule struct {
	Attribute string `yaml:"attribute"` // default cn
	Prefix    string `yaml:"prefix"`
	Suffix    string `yaml:"suffix"`
	Lowercase bool   `yaml:"lowercase"`
	// Replace holds regular-expression replacements applied in order.
	Replace []Replacement `yaml:"replace"`
}

// Replacement is one regular-expression replacement.
type Replacement struct {
	Pattern string `yaml:"pattern"`
	With    string `yaml:"with"`
}

// LDAP holds live LDAP connection settings. The bind DN and password are read from the
// environment variables named here, never from the file.
type LDAP struct {
	URL         string        `yaml:"url"` // ldap:// or ldaps://
	StartTLS    bool          `yaml:"startTLS"`
	CACert      string        `yaml:"caCert"`
	BindDNEnv   string        `yaml:"bindDNEnv"`   // default LDAP_BIND_DN
	PasswordEnv string        `yaml:"passwordEnv"` // default LDAP_BIND_PASSWORD
	BaseDN      string        `yaml:"baseDN"`
	UserFilter  string        `yaml:"userFilter"`
	GroupFilter string        `yaml:"groupFilter"`
	PageSize    int           `yaml:"pageSize"`
	Timeout     time.Duration `yaml:"timeout"`
}
