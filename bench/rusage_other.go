//go:build !unix

package main

import (
	"os"
	"time"
)

// processCPU is not measured where getrusage does not exist.
func processCPU() (time.Duration, bool) { return 0, false }

// maxRSS is not measured where getrusage does not exist.
func maxRSS(*os.ProcessState) (uint64, bool) { return 0, false }
