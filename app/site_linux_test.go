//go:build linux && cgo

package app

import "testing"

// TestRetryCancelledLoad: a cancelled first load of the site's own address is tried again a few
// times; a later cancellation (another navigation replaced the load), a foreign address, any other
// failure, or a load that keeps being cancelled is left to WebKit's error page.
func TestRetryCancelledLoad(t *testing.T) {
	const origin = "https://device.example:8443"
	for _, c := range []struct {
		name      string
		cancelled bool
		shown     bool
		retries   int
		uri       string
		want      bool
	}{
		{"first load cancelled", true, false, 0, origin + "/app?x=1", true},
		{"cancelled again", true, false, maxCancelRetries - 1, origin + "/", true},
		{"keeps being cancelled", true, false, maxCancelRetries, origin + "/", false},
		{"replaced by a navigation after the site showed", true, true, 0, origin + "/next", false},
		{"another failure", false, false, 0, origin + "/", false},
		{"foreign address", true, false, 0, "https://evil.example/", false},
		{"same host, other port", true, false, 0, "https://device.example/", false},
	} {
		if got := retryCancelledLoad(c.cancelled, c.shown, c.retries, c.uri, origin); got != c.want {
			t.Errorf("%s: retry %v, want %v", c.name, got, c.want)
		}
	}
}
