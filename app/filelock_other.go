//go:build !unix

package app

import "os"

// lockFile on platforms without flock only makes sure the lock file can be created; site windows,
// the only concurrent writers, run on Linux for now.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}
