// Package arch holds the test that keeps the project's import arrows true: which of the
// project's packages each package may import (see Rules). It has no code of its own.
//
// Package arch imports nothing of the project.
package arch
