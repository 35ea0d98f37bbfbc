package policy

import (
	"math"
	"strconv"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	const a, b = "https://a.example", "https://b.example"

	type step struct {
		origin string
		ms     int
		want   bool
	}
	tests := []struct {
		name     string
		capacity int
		rate     float64
		steps    []step
	}{
		{
			name: "burst up to capacity then refuse", capacity: 3, rate: 1,
			steps: []step{{a, 0, true}, {a, 0, true}, {a, 0, true}, {a, 0, false}, {a, 10, false}},
		},
		{
			name: "refills at the configured rate", capacity: 2, rate: 2, // one token per 500 ms
			steps: []step{{a, 0, true}, {a, 0, true}, {a, 0, false}, {a, 499, false}, {a, 500, true}, {a, 500, false}, {a, 1500, true}, {a, 1500, true}, {a, 1500, false}},
		},
		{
			name: "refill is capped at capacity", capacity: 2, rate: 10,
			steps: []step{{a, 0, true}, {a, 0, true}, {a, 60000, true}, {a, 60000, true}, {a, 60000, false}},
		},
		{
			name: "origins have separate buckets", capacity: 1, rate: 1,
			steps: []step{{a, 0, true}, {a, 0, false}, {b, 0, true}, {b, 0, false}, {a, 1000, true}},
		},
		{
			name: "time going backwards refills nothing", capacity: 1, rate: 1,
			steps: []step{{a, 10000, true}, {a, 0, false}, {a, 5000, false}, {a, 10999, false}, {a, 11000, true}},
		},
		{
			name: "zero rate never refills", capacity: 2, rate: 0,
			steps: []step{{a, 0, true}, {a, 0, true}, {a, 1 << 30, false}},
		},
		{
			name: "fractional rate", capacity: 1, rate: 0.1, // one token per ten seconds
			steps: []step{{a, 0, true}, {a, 9999, false}, {a, 10000, true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLimiter(tt.capacity, tt.rate)
			for i, s := range tt.steps {
				if got := l.Allow(s.origin, at(s.ms)); got != s.want {
					t.Fatalf("step %d: Allow(%q, +%dms) = %v, want %v", i, s.origin, s.ms, got, s.want)
				}
			}
		})
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimiter(2, 1)
	// Fill the table with origins whose buckets are not full.
	for i := 0; i < maxBuckets; i++ {
		if !l.Allow("https://o"+strconv.Itoa(i)+".example", t0) {
			t.Fatalf("origin %d refused", i)
		}
	}
	// Nothing can be pruned yet: a new origin is refused (fail closed), an existing one still works.
	if l.Allow("https://new.example", t0) {
		t.Fatal("new origin allowed although the table is full of active buckets")
	}
	if !l.Allow("https://o0.example", t0) {
		t.Fatal("existing origin refused")
	}
	// Once the buckets have refilled they are prunable, and new origins are welcome again.
	later := t0.Add(2 * time.Second)
	if !l.Allow("https://new.example", later) {
		t.Fatal("new origin refused after buckets refilled")
	}
	if n := len(l.buckets); n > maxBuckets {
		t.Fatalf("table grew to %d entries", n)
	}
}

func TestNewLimiterRejectsNonsense(t *testing.T) {
	for _, tc := range []struct {
		capacity int
		rate     float64
	}{{0, 1}, {-1, 1}, {1, -1}, {1, math.NaN()}, {1, math.Inf(1)}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewLimiter(%d, %v) did not panic", tc.capacity, tc.rate)
				}
			}()
			NewLimiter(tc.capacity, tc.rate)
		}()
	}
}
