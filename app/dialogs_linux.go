//go:build linux && cgo

package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"socketeer/bindings"
)

// dialogs routes the answers of guarded dialogs, which arrive on the GTK thread, to the goroutines
// waiting for them.
var dialogs = &dialogBroker{waiting: map[uint64]chan dialogAnswer{}}

type dialogBroker struct {
	mu      sync.Mutex
	next    uint64
	waiting map[uint64]chan dialogAnswer
}

// ask shows a guarded dialog over the site window and waits for the user, or for ctx to end, which
// closes the dialog and counts as a denial.
func (b *dialogBroker) ask(ctx context.Context, s *site, kind string, spec dialogSpec) dialogAnswer {
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan dialogAnswer, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	onGTK(func() {
		s.view.showDialog(id, spec)
		// What the user was shown goes in the log, so a decision can be traced to its wording.
		alog.Info("dialog shown", "kind", kind, "id", id, "rows", fmt.Sprint(spec.Rows))
	})
	select {
	case a := <-ch:
		return a
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.waiting, id)
		b.mu.Unlock()
		onGTK(func() { cancelDialog(id) })
		alog.Info("dialog answered", "id", id, "allow", false, "why", "timed out or withdrawn")
		return dialogAnswer{}
	}
}

func (b *dialogBroker) answer(id uint64, a dialogAnswer) {
	b.mu.Lock()
	ch := b.waiting[id]
	delete(b.waiting, id)
	b.mu.Unlock()
	if ch == nil {
		return
	}
	alog.Info("dialog answered", "id", id, "allow", a.Allow, "remember", a.Remember)
	ch <- a
}

func (b *dialogBroker) armed(id uint64) {
	alog.Info("dialog armed", "id", id)
}

// consentPrompter is the bindings.Prompter of a site window: the native consent dialog, one at a
// time, with at most one more request waiting behind it (threat: a page burying the user in prompts).
type consentPrompter struct {
	s       *site
	timeout time.Duration
	line    *promptLine
}

// newConsentPrompter denies prompts nobody answers within timeout (60 s unless the organisation's
// policy shortens it).
func newConsentPrompter(s *site, timeout time.Duration) *consentPrompter {
	return &consentPrompter{s: s, timeout: timeout, line: newPromptLine()}
}

func (c *consentPrompter) Ask(ctx context.Context, p bindings.Prompt) (bindings.Answer, error) {
	done, err := c.line.enter(ctx)
	if err != nil {
		return bindings.Answer{}, err
	}
	defer done()
	asked, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	a := dialogs.ask(asked, c.s, "consent", consentSpec(p))
	if err := ctx.Err(); err != nil {
		// The page withdrew the request (it closed the socket or went away): not the user's answer.
		return bindings.Answer{}, err
	}
	return bindings.Answer{Allow: a.Allow, Remember: a.Remember, Host: a.Host, Port: a.Port}, nil
}
