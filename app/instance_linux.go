//go:build linux

package app

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// instance is this process's claim on an instance folder (a profile's, or the launcher's).
type instance struct {
	dir  string
	lock *os.File
	ln   *net.UnixListener
}

// maxControlMessage bounds what either side of a control socket reads (threat: another local
// program of the same user, or a stale socket, making us read without end).
const maxControlMessage = 4 << 20

// claimInstance takes the instance lock of dir. When another process holds it, that process is
// asked to show its window and errAlreadyOpen is returned.
func claimInstance(dir string) (*instance, error) {
	for range 3 {
		inst, err := tryClaimInstance(dir)
		// The holder went away between the lock and the question (or the lock was only being
		// looked at, see holdsLock): try again.
		if !errors.Is(err, errNotRunning) {
			return inst, err
		}
	}
	return nil, fmt.Errorf("the profile in %s is being opened and closed by another process; try again", dir)
}

func tryClaimInstance(dir string) (*instance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, instanceLockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the instance lock: %w", err)
	}
	// The lock is held for the life of the process and released by the kernel when it ends, however
	// it ends: a crashed process never leaves a stale lock behind.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		if _, err := askInstance(dir, controlRequest{Op: "focus"}, controlTimeout); errors.Is(err, errNotRunning) {
			return nil, err
		} else if err != nil {
			return nil, fmt.Errorf("this profile is already open in another process, which did not answer: %w", err)
		}
		return nil, errAlreadyOpen
	}
	inst := &instance{dir: dir, lock: f}
	sock := filepath.Join(dir, instanceSocketName)
	// A socket file left by a process that died is stale: the lock proves nobody serves it.
	os.Remove(sock)
	err = withShortPath(sock, func(p string) error {
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
		if err == nil {
			inst.ln = ln
		}
		return err
	})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("listen on %s: %w", sock, err)
	}
	// The listener may know the socket by its /proc name, which means nothing once the folder's
	// descriptor is closed; Close removes the file by its real name instead.
	inst.ln.SetUnlinkOnClose(false)
	// Owner only (threat: another user on the machine listing or closing this user's sockets); the
	// folder is the owner's only as well, and every connection's peer is checked in serve.
	if err := os.Chmod(sock, 0o600); err != nil {
		inst.Close()
		return nil, fmt.Errorf("protect %s: %w", sock, err)
	}
	return inst, nil
}

// serve answers control requests with handle until the instance is closed.
func (inst *instance) serve(handle func(controlRequest) controlResponse) {
	go func() {
		for {
			c, err := inst.ln.AcceptUnix()
			if err != nil {
				return
			}
			go inst.answer(c, handle)
		}
	}()
}

func (inst *instance) answer(c *net.UnixConn, handle func(controlRequest) controlResponse) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(controlTimeout))
	if !sameUser(c) {
		alog.Warn("control connection from another user refused")
		return
	}
	var req controlRequest
	line, err := bufio.NewReader(io.LimitReader(c, maxControlMessage)).ReadBytes('\n')
	if err != nil || json.Unmarshal(line, &req) != nil {
		return
	}
	b, _ := json.Marshal(handle(req))
	c.Write(append(b, '\n'))
}

// sameUser checks the peer's credentials as the kernel reports them.
func sameUser(c *net.UnixConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return false
	}
	return int(cred.Uid) == os.Getuid()
}

// Close releases the instance.
func (inst *instance) Close() {
	if inst == nil {
		return
	}
	if inst.ln != nil {
		inst.ln.Close()
		os.Remove(filepath.Join(inst.dir, instanceSocketName))
	}
	inst.lock.Close()
}

// askInstance sends one request to the process that holds dir's instance. A process that holds the
// lock but does not listen yet (it is starting) is waited for, up to wait.
func askInstance(dir string, req controlRequest, wait time.Duration) (controlResponse, error) {
	var resp controlResponse
	sock := filepath.Join(dir, instanceSocketName)
	deadline := time.Now().Add(wait)
	var c net.Conn
	for {
		err := withShortPath(sock, func(p string) error {
			var err error
			c, err = net.DialTimeout("unix", p, controlTimeout)
			return err
		})
		if err == nil {
			break
		}
		if !holdsLock(dir) {
			return resp, errNotRunning
		}
		if time.Now().After(deadline) {
			return resp, err
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(controlTimeout))
	b, _ := json.Marshal(req)
	if _, err := c.Write(append(b, '\n')); err != nil {
		return resp, fmt.Errorf("control socket: %w", err)
	}
	line, err := bufio.NewReader(io.LimitReader(c, maxControlMessage)).ReadBytes('\n')
	if err != nil {
		return resp, fmt.Errorf("control socket: %w", err)
	}
	if err := json.Unmarshal(line, &resp); err != nil {
		return resp, fmt.Errorf("control socket: %w", err)
	}
	if resp.Error != "" {
		return resp, errors.New(resp.Error)
	}
	return resp, nil
}

// holdsLock reports whether some process holds dir's instance lock.
func holdsLock(dir string) bool {
	f, err := os.Open(filepath.Join(dir, instanceLockName))
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return true
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// maxSocketPath is the longest path a unix socket address holds (108 bytes with the final NUL).
const maxSocketPath = 107

// withShortPath calls fn with a path for the socket that fits a unix socket address. Deep folders
// (a long home or host name) exceed it, so the folder is then reached through a descriptor of its
// own in /proc/self/fd, which names the same folder in a few bytes.
func withShortPath(sock string, fn func(string) error) error {
	if len(sock) <= maxSocketPath {
		return fn(sock)
	}
	d, err := os.Open(filepath.Dir(sock))
	if err != nil {
		return err
	}
	defer d.Close()
	return fn("/proc/self/fd/" + strconv.Itoa(int(d.Fd())) + "/" + filepath.Base(sock))
}

// profileRunning reports whether a process shows the profile.
func profileRunning(p *Profile) bool { return holdsLock(p.ConfigDir()) }

// lockIdle takes dir's instance lock when no process holds it, so that nothing can open the
// profile while the caller changes it under its feet (removes it, say). ok is false when the
// profile is open.
func lockIdle(dir string) (release func(), ok bool) {
	f, err := os.Open(filepath.Join(dir, instanceLockName))
	if errors.Is(err, os.ErrNotExist) {
		return func() {}, true
	}
	if err != nil {
		return nil, false
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		f.Close()
		return nil, false
	}
	return func() { f.Close() }, true
}

// startDetached starts cmd in a session of its own, so that it outlives the process that started it
// and the signals its terminal or process group get.
func startDetached(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd.Start()
}
