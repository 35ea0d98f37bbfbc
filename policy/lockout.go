package policy

import (
	"sync"
	"time"
)

// Prompt lockout numbers from the consent design: three denials in a row silence an origin's prompts
// for ten minutes.
const (
	LockoutDenials  = 3
	LockoutDuration = 10 * time.Minute
)

// Lockout counts an origin's consecutive consent denials.
//
// Threat: prompt fatigue. A page that asks again and again until the user clicks Allow to make it
// stop gets no prompts at all for a while after being denied LockoutDenials times in a row; every
// request is then refused without asking, and the error says why. Any Allow resets the count.
//
// Like Limiter it takes the time as an input, so it stays pure; it is safe for concurrent use.
type Lockout struct {
	mu      sync.Mutex
	origins map[string]*lockState
}

type lockState struct {
	denials int
	until   time.Time
}

// NewLockout returns an empty Lockout.
func NewLockout() *Lockout { return &Lockout{origins: map[string]*lockState{}} }

// MayAsk reports whether origin may be prompted at now, and if not, until when it is locked out.
func (l *Lockout) MayAsk(origin string, now time.Time) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.origins[origin]
	if st == nil || !now.Before(st.until) {
		return true, time.Time{}
	}
	return false, st.until
}

// Answered records the user's answer to a prompt of origin.
func (l *Lockout) Answered(origin string, allowed bool, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if allowed {
		delete(l.origins, origin)
		return
	}
	st := l.origins[origin]
	if st == nil {
		st = &lockState{}
		l.origins[origin] = st
	}
	st.denials++
	if st.denials >= LockoutDenials {
		st.until = now.Add(LockoutDuration)
		st.denials = 0
	}
}
