//go:build !linux

package app

import (
	"os/exec"
	"time"
)

// instance is a no-op where site windows do not run yet: there is nothing to keep single.
type instance struct{}

func claimInstance(string) (*instance, error) { return &instance{}, nil }

func (*instance) serve(func(controlRequest) controlResponse) {}

func (*instance) Close() {}

func askInstance(string, controlRequest, time.Duration) (controlResponse, error) {
	return controlResponse{}, errNotRunning
}

func profileRunning(*Profile) bool { return false }

func startDetached(cmd *exec.Cmd) error { return cmd.Start() }

func lockIdle(string) (func(), bool) { return func() {}, true }
