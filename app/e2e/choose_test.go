package e2e

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"testing"

	"socketeer/policy"
)

// TestUserChoosesDestination: a page that leaves the address out (the explainer allows it) gets the
// destination the user types in the dialog, and learns only that; an address the user edits is what
// the page gets; and an edited address is decided again by the policy, so typing port 443 is still
// refused (threat: the dialog as a way around the policy).
func TestUserChoosesDestination(t *testing.T) {
	chosen, chosenStats := StartEchoServer(t)
	editedTo, editedStats := StartEchoServer(t)
	asked, askedStats := StartEchoServer(t)
	// A port nobody listens on, which the user edits to 443.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unused := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	site := StartSite(t, testdataFiles(t, "choose"), strictCSP)
	d, app := openPinnedSite(t, site, fmt.Sprintf("/index.html?b=%d&d=%d", asked.Port, unused))

	enter := func(host string, port int) {
		t.Helper()
		mark := app.Mark()
		gestureClick(t, d, site)
		app.WaitLogAfter(t, mark, reDialogArmed, dialogTimeout)
		win := d.WaitWindow(t, "^Socketeer: connection request$", dialogTimeout)
		d.Key(t, win, "alt+h", "ctrl+a")
		d.Type(t, win, host)
		d.Key(t, win, "alt+o", "ctrl+a")
		d.Type(t, win, strconv.Itoa(port))
		next := app.Mark()
		d.Key(t, win, "alt+a")
		app.WaitLogAfter(t, next, regexp.MustCompile(`msg="dialog answered" id=\d+ allow=true`), dialogTimeout)
	}
	enter("127.0.0.1", chosen.Port)
	enter("127.0.0.1", editedTo.Port)
	enter("127.0.0.1", 443)

	res := site.WaitResult(t, resultTimeout)
	if got := fmt.Sprint(res["chosen"]); got != fmt.Sprintf("map[remoteAddress:127.0.0.1 remotePort:%d]", chosen.Port) {
		t.Errorf("the chosen destination gave %s", got)
	}
	if got := fmt.Sprint(res["edited"]); got != fmt.Sprintf("map[remoteAddress:127.0.0.1 remotePort:%d]", editedTo.Port) {
		t.Errorf("the edited destination gave %s", got)
	}
	if got := fmt.Sprint(res["editedTo443"]); got != "map[error:NotAllowedError message:"+policy.ReasonPort443.Message()+"]" {
		t.Errorf("editing the port to 443 gave %s", got)
	}
	app.WaitLog(t, regexp.MustCompile(`msg="policy decision" \S+ dest=tcp://127.0.0.1:443 verdict=deny reason=port-443`), dialogTimeout)
	if chosenStats.Accepted.Load() != 1 || editedStats.Accepted.Load() != 1 || askedStats.Accepted.Load() != 0 {
		t.Errorf("connections: chosen %d, edited-to %d, originally asked %d; want 1, 1, 0",
			chosenStats.Accepted.Load(), editedStats.Accepted.Load(), askedStats.Accepted.Load())
	}
}
