package scim_test

import (
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/scim"
)

// The client satisfies apply's Target without the scim package importing plan.
var _ plan.Target = (*scim.Client)(nil)
