//go:build unix

package app

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock, so two Socketeer processes (a site window and the
// command line, say) never interleave a read-modify-write of the same file.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
