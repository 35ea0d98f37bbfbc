package app

import (
	"os"
	"strconv"
	"syscall"
	"testing"
)

// TestTakeLaunchReport: the report descriptor is taken out of the environment, and only a pipe is
// used.
func TestTakeLaunchReport(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "not-a-pipe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Setenv(launchReportEnv, "x")
	if takeLaunchReport() != nil {
		t.Error("a bad descriptor was taken")
	}
	if _, ok := os.LookupEnv(launchReportEnv); ok {
		t.Error("the variable stayed in the environment")
	}
	t.Setenv(launchReportEnv, strconv.Itoa(int(f.Fd())))
	if takeLaunchReport() != nil {
		t.Error("a regular file was taken as the report pipe")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The channel owns its descriptor: it gets a copy of the pipe's write end.
	fd, err := syscall.Dup(int(w.Fd()))
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(launchReportEnv, strconv.Itoa(fd))
	c := takeLaunchReport()
	if c == nil {
		t.Fatal("the pipe was not taken")
	}
	if !c.fail("socketeer: boom") || c.fail("again") {
		t.Error("fail: the first message must arrive, and the channel close after it")
	}
	if got := string(readHead(r, 100)); got != "socketeer: boom\n" {
		t.Errorf("report %q", got)
	}
	// No launcher listening any more (it was closed): the message must go elsewhere.
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r2.Close()
	if (&failureChannel{f: w2}).fail("socketeer: boom") {
		t.Error("a message to a closed launcher counted as delivered")
	}
	var none *failureChannel
	none.ready()
	if none.fail("x") {
		t.Error("no launcher, yet the message arrived")
	}
}
