package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The console's end-to-end tests drive Debian's Chromium (headless) with chromedp. `make test`
// and .ci/run install it when it is absent; so does the first test that needs it when it runs
// as root with apt-get. A test skips, saying why, only when Chromium cannot be had at all.

var (
	chromiumOnce sync.Once
	chromiumPath string
	chromiumWhy  string
)

// findChromium is CREDO_CHROMIUM, or the first Chromium or Chrome on the PATH.
func findChromium() string {
	if p := os.Getenv("CREDO_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// MustChromium returns Chromium's path, installing Debian's package when it is absent and this
// process may (root, apt-get); it skips the test when Chromium cannot be installed.
func MustChromium(t *testing.T) string {
	t.Helper()
	chromiumOnce.Do(func() {
		if chromiumPath = findChromium(); chromiumPath != "" {
			return
		}
		if os.Getuid() != 0 {
			chromiumWhy = "chromium is not installed and this test is not root, so it cannot install it (run `make test`, or apt-get install chromium)"
			return
		}
		if _, err := exec.LookPath("apt-get"); err != nil {
			chromiumWhy = "chromium is not installed and there is no apt-get to install it"
			return
		}
		out, err := exec.Command("sh", "-c", "apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)").CombinedOutput()
		if chromiumPath = findChromium(); chromiumPath == "" {
			chromiumWhy = fmt.Sprintf("chromium could not be installed with apt-get (%v): %s", err, lastLines(string(out), 5))
		}
	})
	if chromiumPath == "" {
		t.Skip("console end-to-end test skipped: " + chromiumWhy)
	}
	return chromiumPath
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// screenshotDir is where the end-to-end tests leave their screenshots: CREDO_E2E_SCREENSHOTS, or
// cmd/credo/testdata/screenshots (ignored by git).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CREDO_E2E_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// browser is one headless Chromium tab on a test server's console.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	n     int
}

// MustBrowser starts Chromium (its own profile, no network but the test server) at width 1280.
func MustBrowser(t *testing.T, base, shots string) *browser {
	t.Helper()
	exe := MustChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("lang", "en-GB"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, base: base, shots: shots}
	if err := chromedp.Do(b.step(30 * time.Second)); err != nil { // starts the browser
		t.Fatalf("start chromium (%s): %v", exe, err)
	}
	return b
}

// step bounds one browser step, so a page that never comes fails the test instead of hanging it.
func (b *browser) step(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(b.ctx, d)
	b.t.Cleanup(cancel)
	return ctx
}

// open loads a console path and returns the HTTP status of the page.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	resp, err := chromedp.Run(b.step(20*time.Second), chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	return resp.Status
}

// submit clicks a form's button (CSS selector) and returns the status of the page it leads to.
func (b *browser) submit(sel string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.step(30*time.Second), chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("submit %s: %v", sel, err)
	}
	return resp.Status
}

// do runs steps that return nothing.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.step(20*time.Second), steps...); err != nil {
		b.t.Fatal(err)
	}
}

// js evaluates a JavaScript expression in the page and decodes its value into T.
func js[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.step(20*time.Second), chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// text is the visible text of the first element matching a CSS selector ("" when none).
func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(js[string](b, fmt.Sprintf(`(document.querySelector(%s) || {innerText: ""}).innerText`, jsString(sel))))
}

// count is the number of elements matching a CSS selector.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return js[int](b, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

// setValue replaces a field's value as typing would (the page's input listeners run).
func (b *browser) setValue(sel, v string) {
	b.t.Helper()
	js[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = %s; e.dispatchEvent(new Event("input", {bubbles: true})); return true })()`,
		jsString(sel), jsString(v)))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

var shotName = regexp.MustCompile(`[^a-z0-9-]+`)

// shot saves a full-page screenshot as NN-name.png in the screenshot folder.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.step(20*time.Second), chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	b.n++
	file := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, shotName.ReplaceAllString(name, "-")))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// signIn signs in with key and returns the status of the page it lands on.
func (b *browser) signIn(key string) int64 {
	b.t.Helper()
	if st := b.open("/console/login"); st != 200 {
		b.t.Fatalf("sign-in page: status %d", st)
	}
	b.setValue("#key", key)
	return b.submit("#sign-in")
}

// signOut clicks the menu's sign-out button.
func (b *browser) signOut() {
	b.t.Helper()
	if st := b.submit("#sign-out"); st != 200 {
		b.t.Fatalf("sign out: status %d", st)
	}
	if got := b.text("#login-why"); got != "You are signed out." {
		b.t.Fatalf("after sign-out the page says %q", got)
	}
}
