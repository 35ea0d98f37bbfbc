package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// startWithPolicy runs the app with the given /etc/socketeer files (see startWithEtc).
func startWithPolicy(t *testing.T, d *Display, env map[string]string, files map[string]string, args ...string) *App {
	t.Helper()
	etc := map[string]string{}
	for name, content := range files {
		etc[filepath.Join("socketeer", name)] = content
	}
	return startWithEtc(t, d, env, etc, args...)
}

// startWithEtc runs the app in a private mount namespace whose /etc is an overlay holding the given
// files (paths relative to /etc), so a test can use the real, fixed paths (/etc/socketeer,
// /etc/hosts) without touching the machine's /etc.
func startWithEtc(t *testing.T, d *Display, env map[string]string, files map[string]string, args ...string) *App {
	t.Helper()
	root := t.TempDir()
	upper := filepath.Join(root, "upper")
	for name, content := range files {
		p := filepath.Join(upper, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	work := filepath.Join(root, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`mount --make-rprivate / && mount -t overlay overlay -o lowerdir=/etc,upperdir=%s,workdir=%s /etc && exec "$@"`, upper, work)
	return startApp(t, "/usr/bin/unshare", d, env, append([]string{"-m", "sh", "-c", script, "sh", Binary(t)}, args...)...)
}

// TestEnterprisePolicy checks the organisation's policy in the real app: a blocked destination is
// refused without a prompt and the page is told it was the organisation's decision, a pre-granted
// destination connects without a prompt, the prompt timeout is shortened, and a broken policy file
// disables the API instead of being skipped (fail closed).
func TestEnterprisePolicy(t *testing.T) {
	granted, grantedStats := StartEchoServer(t)
	blocked, blockedStats := StartEchoServer(t)
	other, otherStats := StartEchoServer(t)
	site := StartSite(t, testdataFiles(t, "enterprise"), strictCSP)
	dirs := pinnedDirs(t, site)
	policyJSON := fmt.Sprintf(`{
  "promptTimeoutSeconds": 2,
  "preGrants": [{"origins": [%q], "cidrs": ["127.0.0.1/32"], "ports": ["%d"]}],
  "blockDestinations": [{"cidrs": ["127.0.0.0/8"], "ports": ["%d"]}]
}`, site.Origin, granted.Port, blocked.Port)
	page := fmt.Sprintf("/index.html?ports=%d,%d,%d", granted.Port, blocked.Port, other.Port)
	d := StartXvfb(t)
	app := startWithPolicy(t, d, dirs, map[string]string{"policy.json": policyJSON}, "open", site.URL+page)
	gestureClick(t, d, site) // only the destination the policy leaves to the user asks for one

	res := site.WaitResult(t, resultTimeout)
	got := fmt.Sprint(res["outcomes"])
	for _, want := range []string{
		fmt.Sprintf("map[outcome:opened port:%d]", granted.Port),
		fmt.Sprintf("outcome:NotAllowedError port:%d", blocked.Port),
		fmt.Sprintf("message:the user did not allow this connection outcome:NotAllowedError port:%d", other.Port),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("outcomes %s lack %q", got, want)
		}
	}
	if !strings.Contains(got, "organisation") {
		t.Errorf("the blocked destination's error does not say the organisation decided: %s", got)
	}
	shown := dialogsShown(app)
	if shown != 1 {
		t.Errorf("%d dialogs shown, want 1 (only for the destination the policy leaves to the user)", shown)
	}
	app.WaitLog(t, regexp.MustCompile(`msg="dialog answered" id=\d+ allow=false why="timed out or withdrawn"`), dialogTimeout)
	if grantedStats.Accepted.Load() != 1 || blockedStats.Accepted.Load() != 0 || otherStats.Accepted.Load() != 0 {
		t.Errorf("connections: granted %d, blocked %d, other %d; want 1, 0, 0",
			grantedStats.Accepted.Load(), blockedStats.Accepted.Load(), otherStats.Accepted.Load())
	}
	env := app.Env
	app.Stop(t)

	broken := startWithPolicy(t, d, env, map[string]string{
		"policy.json":             policyJSON,
		"policy.d/50-broken.json": `{"allowPort443": tru}`,
	}, "open", site.URL+page)
	broken.WaitLog(t, regexp.MustCompile(`socket policy is invalid.*50-broken.json`), pageTimeout)
	gestureClick(t, d, site)
	res = site.WaitResult(t, resultTimeout)
	if got := fmt.Sprint(res["outcomes"]); strings.Count(got, "NotAllowedError") != 3 {
		t.Errorf("with a broken policy file the page got %s, want three refusals", got)
	}
	if grantedStats.Accepted.Load() != 1 {
		t.Errorf("a broken policy still let a connection through")
	}
}
