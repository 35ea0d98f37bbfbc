package policy

import (
	"testing"
	"time"
)

func TestLockout(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	const a, b = "https://a.example", "https://b.example"
	steps := []struct {
		name   string
		origin string
		answer *bool // nil: only ask MayAsk
		at     time.Duration
		mayAsk bool
	}{
		{"first prompt", a, nil, 0, true},
		{"deny 1", a, ptr(false), 1 * time.Second, true},
		{"deny 2", a, ptr(false), 2 * time.Second, true},
		{"an allow resets the count", a, ptr(true), 3 * time.Second, true},
		{"deny 1 again", a, ptr(false), 4 * time.Second, true},
		{"deny 2 again", a, ptr(false), 5 * time.Second, true},
		{"deny 3 locks out", a, ptr(false), 6 * time.Second, false},
		{"still locked just before ten minutes", a, nil, 6*time.Second + LockoutDuration - time.Nanosecond, false},
		{"another origin is not affected", b, nil, 7 * time.Second, true},
		{"unlocked after ten minutes", a, nil, 6*time.Second + LockoutDuration, true},
		{"the count restarted: one denial does not lock", a, ptr(false), 6*time.Second + LockoutDuration + time.Second, true},
	}
	l := NewLockout()
	for _, s := range steps {
		now := t0.Add(s.at)
		if s.answer != nil {
			l.Answered(s.origin, *s.answer, now)
		}
		if got, _ := l.MayAsk(s.origin, now); got != s.mayAsk {
			t.Errorf("%s: MayAsk = %v, want %v", s.name, got, s.mayAsk)
		}
	}
}

func ptr[T any](v T) *T { return &v }
