package source

import (
	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/source/csvmanifest"
	"github.com/scimsync/scimsync/source/idp"
	"github.com/scimsync/scimsync/source/ldap"
	"github.com/scimsync/scimsync/source/ldif"
)

// readers maps each source kind to the function that reads it. A new kind is one entry
// here and a package under source/ that reads it.
var readers = map[string]ReadFunc{
	config.SourceYAML:      readYAML,
	config.SourceCSV:       csvmanifest.Read,
	config.SourceLDIF:      ldif.Read,
	config.SourceLDAP:      ldap.Read,
	config.SourceEntra:     idp.Read,
	config.SourceOkta:      idp.Read,
	config.SourceJumpCloud: idp.Read,
	config.SourceGoogle:    idp.Read,
}
