package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"socketeer/bindings"
)

// Audit log limits. A hostile page can make Socketeer decide thousands of times a minute; the log
// rotates at auditMaxBytes and keeps auditKeep old files, so it can never fill the disk.
const (
	auditMaxBytes = 1 << 20
	auditKeep     = 3
)

// auditLog appends every socket decision, one JSON object per line, to audit.log in the XDG state
// folder of Socketeer. Writes are serialised within the process and appended with O_APPEND, so
// lines from concurrent site windows do not interleave.
type auditLog struct {
	mu   sync.Mutex
	path string
}

func newAuditLog(dir string) *auditLog {
	return &auditLog{path: filepath.Join(dir, "audit.log")}
}

type auditLine struct {
	Time string `json:"time"`
	bindings.AuditRecord
}

// Record writes one decision. Failures are logged, never passed on: auditing must not break sockets.
func (a *auditLog) Record(r bindings.AuditRecord) {
	line, err := json.Marshal(auditLine{Time: time.Now().UTC().Format(time.RFC3339Nano), AuditRecord: r})
	if err != nil {
		alog.Error("audit", "error", err)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.write(append(line, '\n')); err != nil {
		alog.Error("audit", "error", err)
	}
}

func (a *auditLog) write(line []byte) error {
	if err := os.MkdirAll(filepath.Dir(a.path), 0o700); err != nil {
		return fmt.Errorf("create the audit folder: %w", err)
	}
	if fi, err := os.Stat(a.path); err == nil && fi.Size()+int64(len(line)) > auditMaxBytes {
		a.rotate()
	}
	f, err := os.OpenFile(a.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open the audit log: %w", err)
	}
	_, err = f.Write(line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rotate shifts audit.log to audit.log.1, .1 to .2 and so on, dropping the oldest.
func (a *auditLog) rotate() {
	for i := auditKeep - 1; i >= 1; i-- {
		os.Rename(a.path+"."+strconv.Itoa(i), a.path+"."+strconv.Itoa(i+1))
	}
	os.Rename(a.path, a.path+".1")
}
