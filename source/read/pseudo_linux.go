package read

import (
	"os"
	"syscall"
)

// Magic numbers of the kernel pseudo-filesystems whose files claim to be regular, from
// linux/magic.h.
const (
	procSuperMagic  = 0x9fa0
	sysfsMagic      = 0x62656572
	debugfsMagic    = 0x64626720
	securityfsMagic = 0x73636673
)

// pseudo reports whether f is on a kernel pseudo-filesystem.
func pseudo(f *os.File) bool {
	var st syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &st); err != nil {
		return false
	}
	switch int64(st.Type) {
	case procSuperMagic, sysfsMagic, debugfsMagic, securityfsMagic:
		return true
	}
	return false
}
