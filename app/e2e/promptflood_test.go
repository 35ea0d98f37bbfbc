package e2e

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestPromptFlood: a page asks for 25 destinations at once. The user sees one dialog at a time with at
// most one more waiting (threat: burying the user in prompts until one is allowed by mistake); the
// other requests are refused at once, and past the origin's token bucket they are refused as too
// many attempts (threat: using the user's machine against third parties). Nothing connects.
func TestPromptFlood(t *testing.T) {
	// 25 consecutive ports on loopback that nothing listens on; none may be dialled anyway.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	first := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if first > 65535-25 {
		first -= 25
	}
	site := StartSite(t, testdataFiles(t, "promptflood"), strictCSP)
	d, app := openPinnedSite(t, site, "/index.html?first="+strconv.Itoa(first))

	gestureClick(t, d, site)
	answerConsent(t, d, app, 0, false)
	res := site.WaitResult(t, resultTimeout)
	counts := map[string]int{}
	for _, o := range res["outcomes"].([]any) {
		msg := fmt.Sprint(o)
		switch {
		case strings.Contains(msg, "the user did not allow"):
			counts["denied"]++
		case strings.Contains(msg, "needs a click or key press"):
			counts["needs input"]++
		case strings.Contains(msg, "too many connection attempts"):
			counts["limited"]++
		default:
			t.Errorf("unexpected outcome %q", msg)
		}
		if !strings.HasPrefix(msg, "NotAllowedError: ") {
			t.Errorf("outcome %q is not a NotAllowedError", msg)
		}
	}
	if counts["denied"] != 1 || counts["needs input"] != 19 || counts["limited"] != 5 {
		t.Errorf("outcomes %v, want 1 denied by the user, 19 refused for want of a click of their own, 5 over the rate limit", counts)
	}
	shown := dialogsShown(app)
	if shown != 1 {
		t.Errorf("%d dialogs shown, want 1", shown)
	}
}
