//go:build linux

package app

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// takeLaunchReport takes the launcher's report pipe out of the environment (see launchReportEnv).
// Anything else in the variable (not a number, not a pipe) is ignored.
func takeLaunchReport() *failureChannel {
	v, ok := os.LookupEnv(launchReportEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(launchReportEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd <= 2 {
		return nil
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil
	}
	// Nothing this process starts (web processes, the browser) may hold the pipe open.
	unix.CloseOnExec(fd)
	return newFailureChannel(os.NewFile(uintptr(fd), "launcher report"))
}
