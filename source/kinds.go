package source

import "github.com/scimsync/scimsync/config"

// readers maps each source kind to the function that reads it. A new kind is one entry
// here and a package under source/ that reads it.
var readers = map[string]ReadFunc{
	config.SourceYAML: readYAML,
}
