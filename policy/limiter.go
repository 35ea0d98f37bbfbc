package policy

import (
	"math"
	"sync"
	"time"
)

// maxBuckets bounds the Limiter's memory. Buckets that have refilled completely carry no
// information (a fresh bucket is also full), so they are dropped when the table is full.
const maxBuckets = 4096

// Limiter is a per-origin token bucket.
//
// Threat: denial of service against third parties — a page with socket access could otherwise
// open connections or send datagrams as fast as the machine allows, using the user's machine as a
// flooding tool. Each origin gets a bucket of capacity tokens that refills at perSecond tokens a
// second; every Allow that returns true spends one token.
//
// Time is always passed in, never read, so the Limiter stays pure and testable; callers should pass
// time.Now() values, whose monotonic reading makes the bucket immune to wall-clock changes. A time
// earlier than the last one seen for an origin refills nothing rather than draining or overfilling.
//
// Origins are keyed by the exact string passed in; callers should pass Origin.String() so that
// spellings of the same origin share a bucket. Note that a site can mint many origins (one per
// subdomain), so a caller worried about that should also check a second Limiter under a single
// fixed key as a global budget.
//
// A Limiter is safe for concurrent use.
type Limiter struct {
	mu       sync.Mutex
	capacity float64
	rate     float64
	buckets  map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewLimiter returns a Limiter whose buckets hold capacity tokens and refill at perSecond tokens a
// second. It panics if capacity is below 1 or perSecond is negative, infinite or NaN, because such
// a limiter would silently deny or allow everything; that is a programming error, not input.
func NewLimiter(capacity int, perSecond float64) *Limiter {
	if capacity < 1 {
		panic("policy: NewLimiter capacity must be at least 1")
	}
	if perSecond < 0 || math.IsNaN(perSecond) || math.IsInf(perSecond, 0) {
		panic("policy: NewLimiter perSecond must be finite and not negative")
	}
	return &Limiter{
		capacity: float64(capacity),
		rate:     perSecond,
		buckets:  make(map[string]*bucket),
	}
}

// Allow reports whether origin may perform one more operation at time now, and spends a token if so.
//
// When the table of origins is full and no bucket can be dropped, a new origin is refused: failing
// closed keeps memory bounded, and the situation clears by itself as soon as any bucket refills.
func (l *Limiter) Allow(origin string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[origin]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
			if len(l.buckets) >= maxBuckets {
				return false
			}
		}
		b = &bucket{tokens: l.capacity, last: now}
		l.buckets[origin] = b
	} else {
		l.refill(b, now)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// refill adds the tokens earned since the bucket was last touched.
func (l *Limiter) refill(b *bucket, now time.Time) {
	elapsed := now.Sub(b.last)
	if elapsed <= 0 {
		return
	}
	b.tokens = math.Min(l.capacity, b.tokens+elapsed.Seconds()*l.rate)
	b.last = now
}

// prune drops every bucket that would be full at now.
func (l *Limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.capacity {
			delete(l.buckets, k)
		}
	}
}
