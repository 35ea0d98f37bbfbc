//go:build linux

package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstanceSingle claims an instance folder twice: the second claim asks the first to show its
// window and gets errAlreadyOpen; requests reach the holder; after it closes, the folder can be
// claimed again. The folder is deep enough that its socket path needs the /proc/self/fd detour.
func TestInstanceSingle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 40))
	if _, err := askInstance(dir, controlRequest{Op: "sockets"}, 0); !errors.Is(err, errNotRunning) {
		t.Fatalf("ask before any claim: %v", err)
	}
	first, err := claimInstance(dir)
	if err != nil {
		t.Fatal(err)
	}
	ops := make(chan string, 4)
	first.serve(func(r controlRequest) controlResponse {
		ops <- r.Op
		if r.Op == "close" {
			return controlResponse{Closed: r.Socket == 42}
		}
		return controlResponse{}
	})
	if fi, err := os.Stat(filepath.Join(dir, instanceSocketName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket: %v %v", fi, err)
	}
	if _, err := claimInstance(dir); !errors.Is(err, errAlreadyOpen) {
		t.Fatalf("second claim: %v", err)
	}
	if op := <-ops; op != "focus" {
		t.Fatalf("the holder was asked %q, want focus", op)
	}
	resp, err := askInstance(dir, controlRequest{Op: "close", Socket: 42}, controlTimeout)
	if err != nil || !resp.Closed {
		t.Fatalf("close: %+v %v", resp, err)
	}
	first.Close()
	if _, err := askInstance(dir, controlRequest{Op: "sockets"}, controlTimeout); !errors.Is(err, errNotRunning) {
		t.Fatalf("ask after close: %v", err)
	}
	again, err := claimInstance(dir)
	if err != nil {
		t.Fatalf("claim after close: %v", err)
	}
	again.Close()
}

// TestRemoveRefusesOpenProfile: a profile whose process holds its instance is not removed.
func TestRemoveRefusesOpenProfile(t *testing.T) {
	useTempXDG(t)
	p, err := OpenProfile("https://a.example", "https://a.example/")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := claimInstance(p.ConfigDir())
	if err != nil {
		t.Fatal(err)
	}
	l := newLauncher()
	if err := l.RemoveProfile(p.ID()); err == nil || !strings.Contains(err.Error(), "close its window") {
		t.Fatalf("removing an open profile: %v", err)
	}
	if !profileRunning(p) {
		t.Error("the open profile is not reported running")
	}
	inst.Close()
	if err := l.RemoveProfile(p.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.ConfigDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("profile folder: %v", err)
	}
}
