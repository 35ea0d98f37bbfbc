package e2e

import (
	"fmt"
	"strconv"
	"testing"
)

// TestUserActivation: a connection to a destination without a grant needs real user input (threat:
// connections without the user knowing). No input, script-made events and a faked
// navigator.userActivation are all refused before any dialog; a real click lets the page ask once.
func TestUserActivation(t *testing.T) {
	echo, stats := StartEchoServer(t)
	site := StartSite(t, testdataFiles(t, "activation"), strictCSP)
	d, app := openPinnedSite(t, site, "/index.html?port="+strconv.Itoa(echo.Port))
	gestureClick(t, d, site)
	answerConsent(t, d, app, 0, true)
	res := site.WaitResult(t, resultTimeout)
	const refused = "NotAllowedError: connecting to a new destination needs a click or key press on the page first"
	for _, k := range []string{"noInput", "syntheticEvents", "fakedActivation"} {
		if got := fmt.Sprint(res[k]); got != refused {
			t.Errorf("%s: %s", k, got)
		}
	}
	if got := fmt.Sprint(res["realClick"]); got != "opened" {
		t.Errorf("after a real click: %s", got)
	}
	shown := dialogsShown(app)
	if shown != 1 || stats.Accepted.Load() != 1 {
		t.Errorf("%d dialogs and %d connections, want 1 and 1", shown, stats.Accepted.Load())
	}
}
