//go:build !linux

package app

import "os"

// isTerminal says yes where it cannot tell: no dialog is shown there (see wantErrorDialog).
func isTerminal(*os.File) bool { return true }

// takeLaunchReport: only the Linux launcher starts window processes.
func takeLaunchReport() *failureChannel { return nil }
